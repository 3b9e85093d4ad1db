"""Breaks /req/rate-limits/429-retry-after: a gateway passes 429 on without its Retry-After header.

The same allow-list of response headers, and Retry-After is not on it:
clients refused by the rate limiter must guess when to come back.
"""

from __future__ import annotations

from tests.mutants.wire.exchange import Exchange


def response(exchange: Exchange) -> None:
    if exchange.status == 429:
        exchange.response_headers.pop("retry-after", None)
