"""Breaks /req/pagination/next-cursor-null-at-end: the last page of a list has no `next_cursor` key at all.

Serializers that drop null fields (`exclude_none=True`, `omitempty`) turn the
documented `"next_cursor": null` into a missing key.
"""

from __future__ import annotations

from tests.mutants.asgi import ASGIApp, Exchange, rewrite_responses


def _transform(exchange: Exchange) -> None:
    body = exchange.body
    if exchange.method == "GET" and exchange.status == 200 and isinstance(body, dict) and "items" in body and body.get("next_cursor", "") is None:
        del body["next_cursor"]


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_responses(app, _transform)
