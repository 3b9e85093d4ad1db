"""The `x-apollospace-deprecation` extension: when something was announced deprecated and when it goes.

Shared by the house rule (6 months between the dates), the gate (a removal is
allowed once the sunset has passed), the reference server (the Deprecation and
Sunset headers) and the docs (the banner).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

EXTENSION = "x-apollospace-deprecation"
MINIMUM_MONTHS = 6


@dataclass(frozen=True)
class Deprecation:
    announced: dt.date
    sunset: dt.date
    link: str | None = None


def parse_date(value: Any) -> dt.date | None:
    """A `YYYY-MM-DD` string (or a date YAML already parsed) as a date; None when it is neither."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def deprecation_of(node: Any) -> Deprecation | None:
    """The deprecation a node (operation, parameter, schema) declares, when its dates are readable."""
    if not isinstance(node, dict) or not isinstance(node.get(EXTENSION), dict):
        return None
    extension = node[EXTENSION]
    announced, sunset = parse_date(extension.get("announced")), parse_date(extension.get("sunset"))
    if announced is None or sunset is None:
        return None
    link = extension.get("link")
    return Deprecation(announced, sunset, link if isinstance(link, str) else None)


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus calendar months, clamped to the month's last day (Aug 31 + 6 months = Feb 28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover


def sunset_passed(node: Any, today: dt.date) -> bool:
    """True when `node` is deprecated and its sunset date is before `today`: it may be removed."""
    found = deprecation_of(node)
    return bool(isinstance(node, dict) and node.get("deprecated") is True and found and found.sunset < today)


def banner(node: Any, what: str = "operation") -> str:
    """The docs' deprecation banner of a node: both dates and where to read more; empty when it is not deprecated."""
    found = deprecation_of(node)
    if not isinstance(node, dict) or node.get("deprecated") is not True or found is None:
        return ""
    more = f" [What replaces it]({found.link})." if found.link else ""
    return (f"Deprecated since {found.announced:%Y-%m-%d}: this {what} leaves `/v1` after its sunset on "
            f"{found.sunset:%Y-%m-%d}. Its responses carry the `Deprecation` and `Sunset` headers.{more}")
