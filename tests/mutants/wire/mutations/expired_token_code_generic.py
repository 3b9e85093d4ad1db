"""Breaks /req/auth/expired-token: a gateway answers every 401 with the generic code `unauthenticated`, `token_expired` included.

An auth layer that hides why a token was refused: clients cannot tell an
expired token (refresh it) from a bad one (log in again).
"""

from __future__ import annotations

from tests.mutants.wire.exchange import Exchange


def response(exchange: Exchange) -> None:
    error = exchange.error
    if exchange.status == 401 and error is not None and error.get("code") == "token_expired":
        exchange.response_json = {"error": {**error, "code": "unauthenticated", "message": "Authentication failed."}}
