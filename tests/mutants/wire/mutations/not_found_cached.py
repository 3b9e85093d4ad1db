"""Breaks /req/errors/request-id-unique: a gateway caches 404 answers to GETs and replays them, request id and all.

Negative caching at a CDN or gateway: the second GET of a missing resource
gets the first one's stored answer, so two requests share one `request_id`
and support cannot tell them apart in the logs.
"""

from __future__ import annotations

from tests.mutants.wire.exchange import Exchange

CACHE = "not-found-cache"


def _key(exchange: Exchange) -> str:
    return f"{exchange.path}?{exchange.query}"


def request(exchange: Exchange) -> None:
    cached = exchange.memory.setdefault(CACHE, {}).get(_key(exchange)) if exchange.method == "GET" else None
    if cached is not None:
        status, headers, body = cached
        exchange.answer(status, body, headers)


def response(exchange: Exchange) -> None:
    cache = exchange.memory.setdefault(CACHE, {})
    if exchange.method == "GET" and exchange.status == 404 and _key(exchange) not in cache:
        cache[_key(exchange)] = (exchange.status, dict(exchange.response_headers), exchange.response_body)

