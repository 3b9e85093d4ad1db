"""Breaks /req/idempotency/organization-scoped: a gateway answers repeated Idempotency-Keys from its own store, keyed by key and request but not by organization.

Idempotency moved into the gateway, with a store keyed on the key, the method,
the path and the body. A second organization that happens to send the same key
and body (two integrations built from one template) gets the first
organization's stored answer: another tenant's resource, marked replayed.
"""

from __future__ import annotations

import hashlib

from tests.mutants.wire.exchange import Exchange

STORE = "gateway-idempotency-store"


def _key(exchange: Exchange) -> str | None:
    key = exchange.request_headers.get("idempotency-key")
    if exchange.method != "POST" or not key:
        return None
    return hashlib.sha256(b"\0".join([key.encode(), exchange.path.encode(), exchange.request_body])).hexdigest()


def request(exchange: Exchange) -> None:
    stored = exchange.memory.setdefault(STORE, {}).get(_key(exchange))
    if stored is not None:
        status, headers, body = stored
        exchange.answer(status, body, {**headers, "idempotent-replayed": "true"})
        exchange.notes["replayed"] = True


def response(exchange: Exchange) -> None:
    key = _key(exchange)
    if key is not None and not exchange.notes.get("replayed") and 200 <= exchange.status < 300:
        exchange.memory.setdefault(STORE, {})[key] = (exchange.status, dict(exchange.response_headers), exchange.response_body)
