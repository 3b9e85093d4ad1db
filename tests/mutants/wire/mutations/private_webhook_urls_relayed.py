"""Breaks /req/webhooks/private-targets-refused: a gateway points every subscription at its egress relay, so the server never sees (nor refuses) a private target.

An egress design where the API stores the relay's URL and the relay holds
the real target: the server's address check runs on the relay's address,
and nobody checks the target. (This proxy's relay still never connects
beyond loopback.)
"""

from __future__ import annotations

from tests.mutants.wire.exchange import Exchange
from tests.mutants.wire.relay import relay_url


def request(exchange: Exchange) -> None:
    body = exchange.request_json
    if exchange.path.startswith("/v1/webhooks") and exchange.method in ("POST", "PATCH") and isinstance(body, dict) and isinstance(body.get("url"), str):
        origin = exchange.memory["proxy-origin"]
        if not body["url"].startswith(origin):
            exchange.request_json = {**body, "url": relay_url(origin, body["url"])}
