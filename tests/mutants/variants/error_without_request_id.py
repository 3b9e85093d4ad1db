"""Breaks /req/errors/envelope: error bodies are `{error: {code, message}}`, without `request_id`.

The partner's error serializer predates request ids: the id goes out in the
X-Request-Id header only, and nobody added it to the body.
"""

from __future__ import annotations

from tests.mutants.asgi import ASGIApp, Exchange, rewrite_responses


def _transform(exchange: Exchange) -> None:
    error = exchange.body.get("error") if exchange.status >= 400 and isinstance(exchange.body, dict) else None
    if isinstance(error, dict):
        error.pop("request_id", None)


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_responses(app, _transform)
