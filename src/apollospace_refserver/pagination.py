"""Opaque, tamper-proof cursors and keyset pages.

A cursor is base64url(JSON position) + "." + HMAC, bound to one list and one
set of filters; anything else is a 400 `invalid_cursor`. Pages are keyset
pages on (sort column, id), so rows inserted during a walk never shift it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from apollospace_refserver.errors import ApiError

DEFAULT_LIMIT = 50


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode("ascii"), hashlib.sha256).digest()[:16])

    def encode(self, scope: str, position: Sequence[Any]) -> str:
        payload = _b64(json.dumps({"s": scope, "p": list(position)}, separators=(",", ":")).encode("utf-8"))
        return f"{payload}.{self._mac(payload)}"

    def decode(self, scope: str, cursor: str) -> list[Any]:
        invalid = ApiError(400, "invalid_cursor", "The cursor is not one this list issued; start again without a cursor.")
        payload, _, mac = cursor.partition(".")
        if not payload or not (payload + mac).isascii() or not hmac.compare_digest(mac.encode("ascii"), self._mac(payload).encode("ascii")):
            raise invalid
        try:
            decoded = json.loads(_unb64(payload))
        except ValueError as exc:
            raise invalid from exc
        if decoded.get("s") != scope or not isinstance(decoded.get("p"), list):
            raise invalid
        return list(decoded["p"])


@dataclass(frozen=True)
class PageQuery:
    """One keyset page: `FROM ... WHERE ...` plus the order to walk in."""

    from_sql: str
    where: list[str]
    args: list[Any]
    sort_column: str
    descending: bool = True
    columns: str = "*"  # what the render function reads, with the sort column and id


def fetch_page(
    conn: sqlite3.Connection,
    codec: CursorCodec,
    scope: str,
    query: PageQuery,
    cursor: str | None,
    limit: int | None,
    render: Callable[[sqlite3.Row], dict[str, Any]],
) -> dict[str, Any]:
    """`{items, next_cursor}` for the page after `cursor`."""
    size = limit or DEFAULT_LIMIT
    where, args = list(query.where), list(query.args)
    direction, compare = ("DESC", "<") if query.descending else ("ASC", ">")
    table_key = f"{query.sort_column}", "id"
    if cursor:
        after_sort, after_id = codec.decode(scope, cursor)
        where.append(f"({table_key[0]} {compare} ? OR ({table_key[0]} = ? AND id {compare} ?))")
        args += [after_sort, after_sort, after_id]
    sql = f"SELECT {query.columns} {query.from_sql}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {table_key[0]} {direction}, id {direction} LIMIT ?"
    rows = conn.execute(sql, [*args, size + 1]).fetchall()
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = codec.encode(scope, [last[query.sort_column], last["id"]])
    return {"items": [render(row) for row in rows], "next_cursor": next_cursor}


def scope_of(operation_id: str, org_id: str, filters: dict[str, Any]) -> str:
    """Binds a cursor to one list, one organization and one set of filters."""
    material = json.dumps([operation_id, org_id, sorted(filters.items())], default=str, separators=(",", ":"))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:24]
