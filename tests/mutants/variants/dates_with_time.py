"""Breaks /req/dates/date-format: the Stars period's `period_start` and `period_end` dates go out as midnight timestamps.

The partner stores the period bounds as datetimes and serializes them as
such (`2026-06-01T00:00:00Z`) instead of the documented `YYYY-MM-DD`.
"""

from __future__ import annotations

from typing import Any

from tests.mutants.asgi import ASGIApp, Exchange, rewrite_responses, walk_json


def _midnight(key: str, value: Any) -> Any:
    if key in ("period_start", "period_end") and isinstance(value, str) and len(value) == 10:
        return value + "T00:00:00Z"
    return value


def _transform(exchange: Exchange) -> None:
    if exchange.has_body and exchange.status < 400:
        exchange.body = walk_json(exchange.body, _midnight)


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_responses(app, _transform)
