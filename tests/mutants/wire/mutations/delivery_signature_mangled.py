"""Breaks /req/webhooks/signature: a relay re-encodes the delivery body (pretty-printed) after it was signed, so no signature matches it.

An egress relay that parses every webhook, logs it pretty-printed, and sends
the pretty-printed copy: the payload means the same, but the signature
covered the bytes the server sent, not these.
"""

from __future__ import annotations

import json

from tests.mutants.wire.exchange import Exchange


def delivery(exchange: Exchange) -> None:
    payload = exchange.request_json
    if payload is not None:
        exchange.request_body = json.dumps(payload, indent=2).encode()
