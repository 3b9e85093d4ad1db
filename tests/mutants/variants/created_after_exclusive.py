"""Breaks /req/leads/filters: listLeads' created_after and updated_after are exclusive (`>`), so a lead stamped exactly at the bound is left out.

`>` where `>=` was meant: a client paging by "everything since the newest
created_at I have seen" looks fine, while one filtering from an exact
timestamp silently loses the lead that carries it.
"""

from __future__ import annotations

from typing import Any

from apollospace_refserver.operations import common

_original = common.time_filters


def _time_filters(query: dict[str, Any], column_prefix: str = "", fields: tuple[str, ...] = ("created", "updated")) -> tuple[list[str], list[Any]]:
    where, values = _original(query, column_prefix, fields)
    if "updated" not in fields:  # only listLeads filters on updated_*: every other list keeps its inclusive bound
        return where, values
    return [condition.replace(">=", ">") for condition in where], values


def patch() -> None:
    common.time_filters = _time_filters  # looked up by common.filtered_page at call time
