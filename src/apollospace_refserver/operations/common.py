"""Helpers every surface uses: lookups that 404 across organizations, time filters."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from apollospace_refserver.errors import not_found, validation_failed
from apollospace_refserver.pagination import PageQuery, fetch_page, scope_of
from apollospace_refserver.timeutil import iso, parse_instant

if TYPE_CHECKING:
    from apollospace_refserver.handlers import Call


def fetch_owned(conn: sqlite3.Connection, table: str, kind: str, resource_id: str, org_id: str) -> sqlite3.Row:
    """The row of `resource_id` in `org_id`; another organization's row is a 404 like a missing one."""
    row = conn.execute(f"SELECT * FROM {table} WHERE id = ? AND org_id = ?", (resource_id.lower(), org_id)).fetchone()
    if row is None:
        raise not_found(kind)
    return row


def time_filters(query: dict[str, Any], column_prefix: str = "", fields: tuple[str, ...] = ("created", "updated")) -> tuple[list[str], list[Any]]:
    """SQL conditions for *_after (inclusive) and *_before (exclusive), any offset converted to UTC."""
    where: list[str] = []
    args: list[Any] = []
    for field in fields:
        for suffix, operator in (("after", ">="), ("before", "<")):
            raw = query.get(f"{field}_{suffix}")
            if raw is None:
                continue
            try:
                instant = iso(parse_instant(raw))
            except (ValueError, OverflowError) as exc:
                raise validation_failed(f"Invalid query parameter '{field}_{suffix}': not an RFC 3339 date-time.") from exc
            where.append(f"{column_prefix}{field}_at {operator} ?")
            args.append(instant)
    return where, args


def location(path: str) -> dict[str, str]:
    return {"Location": f"/v1{path}"}


def filtered_page(
    call: Call,
    table: str,
    where: list[str],
    args: list[Any],
    render: Callable[[sqlite3.Row], Any],
    *,
    time_fields: tuple[str, ...] = ("created",),
    scope: dict[str, Any] | None = None,
    columns: str = "*",
) -> dict[str, Any]:
    """One page of `table`, newest first, under `where` and the query's *_after/*_before filters.

    The cursor is bound to the operation, the organization, the query's filters and `scope`;
    `columns` (with created_at and id) are the ones `render` reads.
    """
    query = call.query
    time_where, time_args = time_filters(query, fields=time_fields)
    filters = {key: value for key, value in query.items() if key not in ("cursor", "limit")}
    return fetch_page(
        call.conn, call.services.cursors, scope_of(call.operation.operation_id, call.org_id, {**filters, **(scope or {})}),
        PageQuery(f"FROM {table}", where + time_where, args + time_args, "created_at", columns=columns),
        query.get("cursor"), query.get("limit"), render,
    )
