"""Breaks /req/pagination/complete-walk: each page starts with the last item of the page before it.

The next page's keyset condition is inclusive (`id <= ?` instead of
`id < ?`), a one-character slip that passes any test that only looks at
the first page.
"""

from __future__ import annotations

import sys
from typing import Any

from apollospace_refserver import pagination

_original = pagination.fetch_page


def _fetch_page(conn: Any, codec: Any, scope: str, query: Any, cursor: str | None, limit: int | None, render: Any) -> dict[str, Any]:
    if cursor:
        sort_value, last_id = codec.decode(scope, cursor)
        # The server reads strictly after (sort, id); moving the id a hair back makes that
        # "at or after": the last item of the previous page comes again.
        nudged = last_id + "\x00" if query.descending else last_id[:-1]
        cursor = codec.encode(scope, [sort_value, nudged])
    return _original(conn, codec, scope, query, cursor, limit, render)


def patch() -> None:
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("apollospace_refserver") and getattr(module, "fetch_page", None) is _original:
            module.fetch_page = _fetch_page  # type: ignore[attr-defined]
