"""Breaks /req/errors/details-shape: validation errors point at inputs the request never had.

The partner builds `error.details` from its own form model, not from the
request: the pointer of a body field carries the import-row prefix of a
template (`/rows/3/...`) whatever was sent, so a client following it finds
nothing. The error is otherwise right (status, code, envelope).
"""

from __future__ import annotations

from tests.mutants.asgi import ASGIApp, Exchange, rewrite_responses


def _transform(exchange: Exchange) -> None:
    error = exchange.body.get("error") if exchange.status == 400 and isinstance(exchange.body, dict) else None
    if not isinstance(error, dict) or error.get("code") != "validation_failed":
        return
    error["details"] = [{"in": "body", "pointer": "/rows/3/email", "reason": "Not a valid email address."}]


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_responses(app, _transform)
