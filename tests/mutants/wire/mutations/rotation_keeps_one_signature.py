"""Breaks /req/webhooks/rotation-overlap: a relay keeps only the first entry of `webhook-signature`, so during a rotation receivers get one signature, not two.

A relay that treats the header as a single value and cuts it at the first
space: outside rotations nothing changes, during the overlap receivers still
on the previous secret reject every delivery.
"""

from __future__ import annotations

from tests.mutants.wire.exchange import Exchange


def delivery(exchange: Exchange) -> None:
    signature = exchange.request_headers.get("webhook-signature", "")
    exchange.request_headers["webhook-signature"] = signature.split(" ")[0]
