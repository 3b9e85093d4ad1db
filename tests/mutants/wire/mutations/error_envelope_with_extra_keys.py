"""Breaks /req/errors/envelope: a gateway adds `status` and `path` beside `error` in every error body.

An error normaliser in the style of Spring's default error attributes:
`{"error": {...}, "status": 404, "path": "/v1/leads/..."}`. Clients that
compare the envelope's keys, or generate a closed type from the spec, break.
"""

from __future__ import annotations

from tests.mutants.wire.exchange import Exchange


def response(exchange: Exchange) -> None:
    error = exchange.error
    if error is not None:
        exchange.response_json = {"error": error, "status": exchange.status, "path": exchange.path}
