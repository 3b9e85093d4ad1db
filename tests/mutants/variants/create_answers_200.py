"""Breaks /req/status-codes/created-201: createLead answers 200 OK instead of 201 Created.

200 is every web framework's default status; a handler that returns the new
lead without setting the status ships exactly this.
"""

from __future__ import annotations

from tests.mutants.asgi import ASGIApp, Exchange, rewrite_responses


def _transform(exchange: Exchange) -> None:
    if exchange.method == "POST" and exchange.path.rstrip("/") == "/v1/leads" and exchange.status == 201:
        exchange.status = 200


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_responses(app, _transform)
