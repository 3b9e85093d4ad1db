"""Breaks /req/errors/envelope: a gateway strips `request_id` from error bodies (it keeps the X-Request-Id header).

A response filter that removes "internal" fields from error bodies before
they leave the network, and counts the request id among them.
"""

from __future__ import annotations

from tests.mutants.wire.exchange import Exchange


def response(exchange: Exchange) -> None:
    error = exchange.error
    if error is not None and "request_id" in error:
        exchange.response_json = {"error": {key: value for key, value in error.items() if key != "request_id"}}
