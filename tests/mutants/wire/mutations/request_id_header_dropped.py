"""Breaks /req/errors/request-id-header: a gateway drops the X-Request-Id header from every answer.

A proxy with an allow-list of response headers that forwards only the
standard ones; the request id survives only inside error bodies.
"""

from __future__ import annotations

from tests.mutants.wire.exchange import Exchange


def response(exchange: Exchange) -> None:
    exchange.response_headers.pop("x-request-id", None)
