"""Breaks /req/errors/request-id-unique: the request id is a hash of the request, so a retried request gets the same id.

A partner derives the id from method, URL and caller "so that retries of one
call correlate in the logs", and two identical calls become indistinguishable.
"""

from __future__ import annotations

import hashlib

from tests.mutants.asgi import ASGIApp, Exchange, rewrite_responses


def _transform(exchange: Exchange) -> None:
    material = "|".join((exchange.method, exchange.path, exchange.query, exchange.request_headers.get("authorization", ""),
                         exchange.request_headers.get("x-organization-id", "")))
    request_id = "req_" + hashlib.sha256(material.encode()).hexdigest()[:20]
    exchange.headers["x-request-id"] = request_id
    error = exchange.body.get("error") if exchange.status >= 400 and isinstance(exchange.body, dict) else None
    if isinstance(error, dict):
        error["request_id"] = request_id


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_responses(app, _transform)
