"""Breaks /req/organization/list-isolation: listLeads forgets the organization filter, so it lists every organization's leads.

Reads by id check the organization; the list query, built from optional
filters, simply never got the tenant condition.
"""

from __future__ import annotations

from typing import Any

from apollospace_refserver.operations import common
from apollospace_refserver.pagination import PageQuery


def _page_query(from_sql: str, where: list[str], args: list[Any], *rest: Any, **named: Any) -> PageQuery:
    if from_sql == "FROM leads" and where and where[0] == "org_id = ?":  # listLeads starts with the tenant condition: drop it
        where, args = where[1:], args[1:]
    return PageQuery(from_sql, where, args, *rest, **named)


def patch() -> None:
    common.PageQuery = _page_query  # type: ignore[misc, assignment]  # listLeads builds its query in common.filtered_page
