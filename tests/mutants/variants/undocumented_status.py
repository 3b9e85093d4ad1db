"""Breaks /req/status-codes/documented-only: updateLead answers 202 Accepted instead of 200.

The partner applies updates through a queue and answers 202 "accepted", a
status neither the conventions table nor the operation documents.
"""

from __future__ import annotations

from tests.mutants.asgi import ASGIApp, Exchange, rewrite_responses


def _transform(exchange: Exchange) -> None:
    if exchange.method == "PATCH" and exchange.path.startswith("/v1/leads/") and exchange.status == 200:
        exchange.status = 202


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_responses(app, _transform)
