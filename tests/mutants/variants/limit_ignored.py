"""Breaks /req/pagination/limit-respected: `limit` is accepted but ignored; every page holds up to 50 items.

The partner validates the parameter but never passes it to the query, so
pages always have the default size.
"""

from __future__ import annotations

import sys
from typing import Any

from apollospace_refserver import pagination

_original = pagination.fetch_page


def _fetch_page(conn: Any, codec: Any, scope: str, query: Any, cursor: str | None, limit: int | None, render: Any) -> dict[str, Any]:
    return _original(conn, codec, scope, query, cursor, None, render)  # limit dropped: the default page size


def patch() -> None:
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("apollospace_refserver") and getattr(module, "fetch_page", None) is _original:
            module.fetch_page = _fetch_page  # type: ignore[attr-defined]
