"""Breaks /req/responses/schema-conformance: an agent's `tools` is one comma-separated string, not an array.

The column is stored as text and serialized as it is stored, a common
shortcut when a list lives in one database field.
"""

from __future__ import annotations

import re

from tests.mutants.asgi import ASGIApp, Exchange, rewrite_responses

AGENTS = re.compile(r"^/v1/agents(/[^/]+)?$")


def _flatten(agent: object) -> None:
    if isinstance(agent, dict) and isinstance(agent.get("tools"), list):
        agent["tools"] = ",".join(agent["tools"])


def _transform(exchange: Exchange) -> None:
    if exchange.method != "GET" or exchange.status != 200 or not AGENTS.match(exchange.path) or not isinstance(exchange.body, dict):
        return
    for agent in exchange.body.get("items", [exchange.body]):
        _flatten(agent)


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_responses(app, _transform)
