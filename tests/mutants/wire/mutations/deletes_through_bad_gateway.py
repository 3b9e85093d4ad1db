"""Breaks /req/responses/no-server-errors: a gateway answers 502 to every successful DELETE (the upstream's 204 has no body).

A gateway that expects a body from upstream treats an empty 204 as a broken
upstream answer and replies 502 Bad Gateway, in the error envelope.
"""

from __future__ import annotations

from tests.mutants.wire.exchange import Exchange


def response(exchange: Exchange) -> None:
    if exchange.status == 204:
        request_id = exchange.response_headers.get("x-request-id", "")
        exchange.answer(502, {"error": {"code": "bad_gateway", "message": "The upstream answer had no body.", "request_id": request_id}},
                        {"x-request-id": request_id})
