"""Breaks /req/dates/utc-timestamps: every timestamp goes out in São Paulo time (-03:00).

The instant is right; only the offset is wrong. A partner who formats
datetimes with the server's local zone ships exactly this.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from tests.mutants.asgi import ASGIApp, Exchange, rewrite_responses, walk_json

SAO_PAULO = timezone(timedelta(hours=-3))


def _local(key: str, value: Any) -> Any:
    if isinstance(value, str) and key.endswith("_at") and value.endswith("Z"):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(SAO_PAULO).isoformat()
    return value


def _transform(exchange: Exchange) -> None:
    if exchange.has_body:
        exchange.body = walk_json(exchange.body, _local)


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_responses(app, _transform)
