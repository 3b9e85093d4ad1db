"""Breaks /req/identifiers/invalid-path-id: a gateway routes any all-digit path segment (`/leads/123`) to a retired legacy backend, and answers 502 Bad Gateway.

A migration gateway that still sends the old numeric-id routes to the system
the API replaced; that system is gone, so a client's typo in an id becomes a
server error instead of a 400 or 404.
"""

from __future__ import annotations

from tests.mutants.wire.exchange import Exchange


def request(exchange: Exchange) -> None:
    if any(part.isdigit() for part in exchange.path.split("/")[2:]):  # after /v1
        exchange.answer(502, {"error": {"code": "bad_gateway", "message": "The legacy backend did not answer.", "request_id": "legacy"}},
                        {"x-request-id": "legacy"})
