"""Breaks /req/errors/json-content-type: a gateway relabels every error body `Content-Type: text/html` (the body stays the JSON envelope).

Gateways that serve their own HTML error pages often set the content type for
every 4xx and 5xx they pass on, whoever wrote the body.
"""

from __future__ import annotations

from tests.mutants.wire.exchange import Exchange


def response(exchange: Exchange) -> None:
    if exchange.is_error and exchange.response_body:
        exchange.response_headers["content-type"] = "text/html; charset=utf-8"
