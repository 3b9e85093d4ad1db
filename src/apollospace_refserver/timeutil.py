"""UTC timestamps out, any offset in."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds and `Z`: sortable as text."""
    m = moment.astimezone(UTC)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}.{m.microsecond:06d}Z"


def now_iso() -> str:
    return iso(now())


def parse_instant(text: str) -> datetime:
    """A date-time with any offset (already schema-validated) as an aware UTC datetime."""
    value = text.strip().replace("z", "Z")
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    value = value.replace("t", "T")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a timestamp needs an offset")
    return moment.astimezone(UTC)
