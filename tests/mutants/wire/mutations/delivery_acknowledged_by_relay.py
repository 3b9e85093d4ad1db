"""Breaks /req/webhooks/retry-same-id: a relay acknowledges every delivery with 200 itself and forwards it once, so a failed delivery is never retried.

Fire and forget: the relay answers the server before (or whatever) the
receiver answers, and has no retry queue of its own. An event the receiver
could not take is lost.
"""

from __future__ import annotations

from tests.mutants.wire.exchange import Exchange


def delivery_answer(exchange: Exchange) -> None:
    if not 200 <= exchange.status < 300:
        exchange.answer(200, b"", {})
