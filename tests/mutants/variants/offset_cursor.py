"""Breaks /req/pagination/invalid-cursor-400, /req/pagination/opaque-cursor and /req/pagination/stable-under-inserts: the "cursor" is a plain row offset.

Offset pagination dressed up as a cursor (`next_cursor: "50"`) is the
quickest way to satisfy the response shape. It inevitably breaks three
requirements: any number is a cursor the server accepts (so tampered and
foreign cursors are served, not refused with 400), the cursor is readable
(not opaque), and leads created during a walk shift the offsets (duplicates).
"""

from __future__ import annotations

import sys
from typing import Any

from apollospace_refserver import pagination
from apollospace_refserver.errors import ApiError

_original = pagination.fetch_page


def _fetch_page(conn: Any, codec: Any, scope: str, query: Any, cursor: str | None, limit: int | None, render: Any) -> dict[str, Any]:
    size = limit or pagination.DEFAULT_LIMIT
    if cursor is not None and not cursor.isdigit():
        raise ApiError(400, "invalid_cursor", "The cursor is not a valid offset.")
    offset = int(cursor or 0)
    head = _original(conn, codec, scope, query, None, offset + size, render)  # OFFSET ? LIMIT ?
    more = head["next_cursor"] is not None
    return {"items": head["items"][offset:], "next_cursor": str(offset + size) if more else None}


def patch() -> None:
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("apollospace_refserver") and getattr(module, "fetch_page", None) is _original:
            module.fetch_page = _fetch_page  # type: ignore[attr-defined]
