"""Breaks /req/errors/json-content-type: error bodies are the right JSON envelope, sent as `Content-Type: text/html`.

Flask's `return json.dumps(error), 404` (and similar framework defaults) sends
a JSON text with the default HTML content type.
"""

from __future__ import annotations

from tests.mutants.asgi import ASGIApp, Exchange, rewrite_responses


def _transform(exchange: Exchange) -> None:
    if exchange.status >= 400 and exchange.has_body:
        exchange.headers["content-type"] = "text/html; charset=utf-8"


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_responses(app, _transform)
