"""Breaks /req/webhooks/retry-same-id: a relay gives every attempt it forwards a fresh `webhook-id`, so a retry looks like a new event.

The relay's outgoing queue names each HTTP attempt with its own message id
(and signs it), where Standard Webhooks wants one id per event: receivers
that deduplicate by `webhook-id` process a retried event twice.
"""

from __future__ import annotations

import uuid

from tests.mutants.wire.exchange import Exchange
from tests.mutants.wire.relay import resign

SEEN = "webhook-ids-seen"


def delivery(exchange: Exchange) -> None:
    seen = exchange.memory.setdefault(SEEN, set())
    webhook_id = exchange.request_headers.get("webhook-id", "")
    if webhook_id in seen:
        resign(exchange, webhook_id=f"msg_{uuid.uuid4().hex}")
    seen.add(webhook_id)
