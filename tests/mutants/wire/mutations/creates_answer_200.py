"""Breaks /req/status-codes/created-201: a gateway answers every successful POST 200 OK, the created ones included.

A response mapper that normalises "success" to 200 for its clients and loses
the distinction between created and merely done.
"""

from __future__ import annotations

from tests.mutants.wire.exchange import Exchange


def response(exchange: Exchange) -> None:
    if exchange.method == "POST" and exchange.status == 201:
        exchange.status = 200
