"""Breaks /req/webhooks/payload-schema: a relay rewrites the `timestamp` of real events as Unix epoch seconds, and signs them again.

A relay that normalises event envelopes for a data pipeline downstream
(epoch numbers) and re-signs what it sends; test events bypass the
pipeline and still look right.
"""

from __future__ import annotations

from datetime import datetime

from tests.mutants.wire.exchange import Exchange
from tests.mutants.wire.relay import resign


def delivery(exchange: Exchange) -> None:
    payload = exchange.request_json
    if isinstance(payload, dict) and payload.get("test") is False and isinstance(payload.get("timestamp"), str):
        payload["timestamp"] = int(datetime.fromisoformat(payload["timestamp"].replace("Z", "+00:00")).timestamp())
        exchange.request_json = payload
        resign(exchange)
