"""Breaks /req/errors/request-id-header: responses carry no X-Request-Id header (the id is only in error bodies).

A reverse proxy in front of the partner's service strips response headers it
does not know; the error envelope still holds `request_id`, the header is gone.
A SHOULD: the kit reports it FAIL and the certification still passes.
"""

from __future__ import annotations

from tests.mutants.asgi import ASGIApp, Exchange, rewrite_responses


def _transform(exchange: Exchange) -> None:
    exchange.headers.pop("x-request-id", None)


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_responses(app, _transform)
