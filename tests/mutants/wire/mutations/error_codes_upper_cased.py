"""Breaks /req/errors/documented-codes: a gateway rewrites every error code in upper case (`not_found` becomes `NOT_FOUND`).

An error normaliser that maps codes to the company's house style for
constants; clients that switch on the documented codes stop matching.
"""

from __future__ import annotations

from tests.mutants.wire.exchange import Exchange


def response(exchange: Exchange) -> None:
    error = exchange.error
    if error is not None and isinstance(error.get("code"), str):
        exchange.response_json = {"error": {**error, "code": error["code"].upper()}}
