"""Breaks /req/rate-limits/429-retry-after: a call over the limit gets 429 and the envelope, but no Retry-After header.

The partner's rate limiter (an API gateway plugin, say) answers 429 and
leaves clients to guess when to come back.
"""

from __future__ import annotations

from tests.mutants.asgi import ASGIApp, Exchange, rewrite_responses


def _transform(exchange: Exchange) -> None:
    if exchange.status == 429:
        exchange.headers.pop("retry-after", None)


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_responses(app, _transform)
