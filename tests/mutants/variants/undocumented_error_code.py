"""Breaks /req/errors/documented-codes: `lead_not_found` is sent as the generic `not_found`.

A partner with one shared "not found" exception for every resource sends the
same code everywhere instead of the documented per-resource one.
"""

from __future__ import annotations

from tests.mutants.asgi import ASGIApp, Exchange, rewrite_responses


def _transform(exchange: Exchange) -> None:
    error = exchange.body.get("error") if exchange.status >= 400 and isinstance(exchange.body, dict) else None
    if isinstance(error, dict) and error.get("code") == "lead_not_found":
        error["code"] = "not_found"


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_responses(app, _transform)
