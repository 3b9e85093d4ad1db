"""Breaks /req/auth/expired-token: an expired token is refused with 401 `unauthenticated`, not `token_expired`.

One generic 401 for every token problem is the easy path; clients then cannot
tell "renew your token" from "your token is wrong".
"""

from __future__ import annotations

from tests.mutants.asgi import ASGIApp, Exchange, rewrite_responses


def _transform(exchange: Exchange) -> None:
    error = exchange.body.get("error") if exchange.status == 401 and isinstance(exchange.body, dict) else None
    if isinstance(error, dict) and error.get("code") == "token_expired":
        error["code"] = "unauthenticated"
        error["message"] = "The bearer token is not valid."


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_responses(app, _transform)
