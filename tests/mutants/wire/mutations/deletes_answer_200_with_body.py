"""Breaks /req/status-codes/delete-204: a gateway turns every 204 No Content into 200 with `{}`.

Gateways and serverless adapters that always send a JSON body (they cannot
express "no body") answer a successful DELETE 200 `{}`.
"""

from __future__ import annotations

from tests.mutants.wire.exchange import Exchange


def response(exchange: Exchange) -> None:
    if exchange.status == 204:
        exchange.status = 200
        exchange.response_json = {}
