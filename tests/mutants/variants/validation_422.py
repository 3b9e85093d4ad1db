"""Breaks /req/status-codes/invalid-input-400: invalid input is answered 422 Unprocessable Entity, not 400.

422 is FastAPI's (and Rails') default for request validation errors, so a
partner on those stacks ships it unless they override the handler. 422 is also
not in the conventions table, so /req/status-codes/documented-only breaks with it:
one status, two requirements.
"""

from __future__ import annotations

from tests.mutants.asgi import ASGIApp, Exchange, rewrite_responses


def _transform(exchange: Exchange) -> None:
    error = exchange.body.get("error") if exchange.status == 400 and isinstance(exchange.body, dict) else None
    if isinstance(error, dict) and error.get("code") in ("validation_failed", "malformed_json"):
        exchange.status = 422


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_responses(app, _transform)
