"""Breaks /req/dates/query-offset-accepted: a time filter's UTC offset is dropped, so `10:00-03:00` is read as `10:00Z`.

Stored timestamps are naive UTC, and the partner compares the filter's
wall-clock time with them, throwing the offset away.
"""

from __future__ import annotations

from datetime import UTC, datetime

from apollospace_refserver.operations import common


def _wall_clock_as_utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip().upper().replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC)  # the offset is discarded, not applied


def patch() -> None:
    common.parse_instant = _wall_clock_as_utc
