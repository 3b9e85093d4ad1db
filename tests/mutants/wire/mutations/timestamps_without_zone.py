"""Breaks /req/dates/utc-timestamps: a gateway drops the `Z` from every `*_at` timestamp, leaving naive local times.

A response transformer written with a datetime library that serializes
naive datetimes: `2025-03-01T12:00:00` with no zone at all.
"""

from __future__ import annotations

from typing import Any

from tests.mutants.wire.edits import walk_values
from tests.mutants.wire.exchange import Exchange


def _naive(key: str, value: Any) -> Any:
    if key.endswith("_at") and isinstance(value, str) and value.endswith("Z"):
        return value[:-1]
    return value


def response(exchange: Exchange) -> None:
    body = exchange.response_json
    if body is not None and b'Z"' in exchange.response_body:
        exchange.response_json = walk_values(body, _naive)
