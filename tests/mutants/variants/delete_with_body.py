"""Breaks /req/status-codes/delete-204: deleteLead answers 200 with `{"deleted": true, "id": ...}`.

Returning a small confirmation object from a DELETE is a common habit (and
what some frameworks' generic "success" helper does).
"""

from __future__ import annotations

import re

from tests.mutants.asgi import ASGIApp, Exchange, rewrite_responses

LEAD = re.compile(r"^/v1/leads/([^/]+)$")


def _transform(exchange: Exchange) -> None:
    found = LEAD.match(exchange.path)
    if exchange.method == "DELETE" and found and exchange.status == 204:
        exchange.status = 200
        exchange.headers["content-type"] = "application/json"
        exchange.body = {"deleted": True, "id": found.group(1)}


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_responses(app, _transform)
