"""Breaks /req/responses/no-server-errors: getRun answers 500 internal_error for an id it does not find, instead of 404.

The handler reads a field of the lookup's result before checking that there
was one: the classic "NoneType has no attribute" crash, turned into a 500
envelope by the error middleware.
"""

from __future__ import annotations

import re

from tests.mutants.asgi import ASGIApp, Exchange, rewrite_responses

RUN = re.compile(r"^/v1/runs/[^/]+$")


def _transform(exchange: Exchange) -> None:
    if exchange.method == "GET" and exchange.status == 404 and RUN.match(exchange.path) and isinstance(exchange.body, dict):
        exchange.status = 500
        exchange.body["error"].update(code="internal_error", message="Internal error; quote the request_id to support.")


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_responses(app, _transform)
