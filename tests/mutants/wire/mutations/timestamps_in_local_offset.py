"""Breaks /req/dates/utc-timestamps: a gateway re-renders every `*_at` timestamp in its own zone (São Paulo, -03:00).

A response transformer that parses datetimes and formats them with the
gateway host's local zone: the instant is right, only the offset is wrong.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from tests.mutants.wire.edits import walk_values
from tests.mutants.wire.exchange import Exchange

SAO_PAULO = timezone(timedelta(hours=-3))


def _local(key: str, value: Any) -> Any:
    if key.endswith("_at") and isinstance(value, str) and value.endswith("Z"):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(SAO_PAULO).isoformat()
    return value


def response(exchange: Exchange) -> None:
    body = exchange.response_json
    if body is not None and b'Z"' in exchange.response_body:
        exchange.response_json = walk_values(body, _local)
