"""Breaks /req/idempotency/replay: a gateway drops the Idempotency-Key header before forwarding, so every retry runs again.

A proxy with an allow-list of request headers that predates idempotency
keys: the server never sees one, and a retried POST creates (or bills) twice.
"""

from __future__ import annotations

from tests.mutants.wire.exchange import Exchange


def request(exchange: Exchange) -> None:
    exchange.request_headers.pop("idempotency-key", None)
