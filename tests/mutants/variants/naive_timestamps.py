"""Breaks /req/dates/utc-timestamps: timestamps go out without any offset (naive).

`datetime.utcnow().isoformat()` does this: UTC in fact, but nothing in the
value says so.
"""

from __future__ import annotations

from typing import Any

from tests.mutants.asgi import ASGIApp, Exchange, rewrite_responses, walk_json


def _naive(key: str, value: Any) -> Any:
    if isinstance(value, str) and key.endswith("_at") and value.endswith("Z"):
        return value[:-1]
    return value


def _transform(exchange: Exchange) -> None:
    if exchange.has_body:
        exchange.body = walk_json(exchange.body, _naive)


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_responses(app, _transform)
