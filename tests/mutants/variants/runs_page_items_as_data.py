"""Breaks /req/pagination/cursor-based: listRuns answers `{data, next_cursor}`: the page's items under another name.

A list endpoint written before the convention settled; every other list
answers `{items, next_cursor}`.
"""

from __future__ import annotations

from tests.mutants.asgi import ASGIApp, Exchange, rewrite_responses


def _transform(exchange: Exchange) -> None:
    if exchange.method == "GET" and exchange.path == "/v1/runs" and exchange.status == 200 and isinstance(exchange.body, dict):
        exchange.body = {"data": exchange.body.pop("items", []), **exchange.body}


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_responses(app, _transform)
