"""Breaks /req/webhooks/signature: a relay queues deliveries and sends them with the time they were first queued, ten minutes late.

A store-and-forward relay that keeps the original `webhook-timestamp` (and
signs it) but delivers from a backlog: receivers that enforce the Standard
Webhooks tolerance of five minutes reject every delivery as a replay.
"""

from __future__ import annotations

from tests.mutants.wire.exchange import Exchange
from tests.mutants.wire.relay import now, resign

LATE_SECONDS = 600


def delivery(exchange: Exchange) -> None:
    resign(exchange, timestamp=now() - LATE_SECONDS)
