"""Breaks /req/auth/bearer-required: a gateway sends a call that carries no token with a service account's token of its own.

A gateway configured with "default credentials" for its upstream, meant for
health checks, applies them to any request that comes without
Authorization: anonymous callers act as that account.
"""

from __future__ import annotations

from tests.mutants.wire.exchange import Exchange


def request(exchange: Exchange) -> None:
    if "authorization" not in exchange.request_headers:
        exchange.request_headers["authorization"] = f"Bearer {exchange.memory['credentials']['tenant_a']['token']}"
