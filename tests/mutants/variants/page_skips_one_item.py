"""Breaks /req/pagination/complete-walk: the cursor points at the row peeked to see if there is more, and the next page starts after it, so one item per page boundary is never listed.

Fetching `limit + 1` rows and building the cursor from the extra row, while
the next page is read with a strict `>`, is a classic keyset off-by-one.
"""

from __future__ import annotations

import sys
from typing import Any

from apollospace_refserver import pagination

_original = pagination.fetch_page


def _fetch_page(conn: Any, codec: Any, scope: str, query: Any, cursor: str | None, limit: int | None, render: Any) -> dict[str, Any]:
    size = limit or pagination.DEFAULT_LIMIT
    # Read one row more: its position becomes the cursor (the original code puts it on the last row
    # of size + 1), and the row itself is cut off this page, so the next page starts after it.
    page = _original(conn, codec, scope, query, cursor, size + 1, render)
    return {"items": page["items"][:size], "next_cursor": page["next_cursor"]}


def patch() -> None:
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("apollospace_refserver") and getattr(module, "fetch_page", None) is _original:
            module.fetch_page = _fetch_page  # type: ignore[attr-defined]
