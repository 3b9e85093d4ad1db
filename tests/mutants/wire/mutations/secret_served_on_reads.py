"""Breaks /req/webhooks/secret-once: a gateway's response cache stores the create answer, secret included, and merges it into later reads of the subscription.

A read-through cache that keeps the richest representation it saw of each
resource: the signing secret, shown once on create, comes back on every GET.
"""

from __future__ import annotations

from tests.mutants.wire.exchange import Exchange

SECRETS = "secrets-by-subscription"


def response(exchange: Exchange) -> None:
    body = exchange.response_json
    cache = exchange.memory.setdefault(SECRETS, {})
    if exchange.method == "POST" and exchange.path.rstrip("/") == "/v1/webhooks" and exchange.status == 201 and isinstance(body, dict):
        cache[body.get("id")] = body.get("secret")
    elif exchange.method == "GET" and exchange.status == 200 and isinstance(body, dict) and cache.get(body.get("id")):
        exchange.response_json = {**body, "secret": cache[body["id"]]}
