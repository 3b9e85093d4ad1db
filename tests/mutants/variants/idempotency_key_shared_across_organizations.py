"""Breaks /req/idempotency/organization-scoped: keys live in one store for every organization, so another tenant's retry gets your response.

The partner's idempotency layer sits in the gateway and caches responses by
Idempotency-Key and a hash of method, path and body, without the caller's
organization or user. Two organizations whose clients derive keys the same
way (a hash of the body, an order number) collide, and the second one is
served the first one's stored response: a cross-tenant leak, and its own
request is never run.
"""

from __future__ import annotations

from typing import Any

from apollospace_refserver import app
from apollospace_refserver.idempotency import IdempotencyStore, StoredResponse, fingerprint

EVERY_ORGANIZATION = "every-organization"
_claim, _complete, _release = IdempotencyStore.claim, IdempotencyStore.complete, IdempotencyStore.release


def _fingerprint(user_id: str, method: str, path: str, body: Any) -> str:
    return fingerprint("any-caller", method, path, body)


def _shared_claim(self: IdempotencyStore, org_id: str, key: str, print_: str) -> StoredResponse | None:
    return _claim(self, EVERY_ORGANIZATION, key, print_)


def _shared_complete(self: IdempotencyStore, conn: Any, org_id: str, key: str, response: StoredResponse) -> None:
    _complete(self, conn, EVERY_ORGANIZATION, key, response)


def _shared_release(self: IdempotencyStore, org_id: str, key: str) -> None:
    _release(self, EVERY_ORGANIZATION, key)


def patch() -> None:
    app.fingerprint = _fingerprint
    IdempotencyStore.claim = _shared_claim  # type: ignore[method-assign]
    IdempotencyStore.complete = _shared_complete  # type: ignore[method-assign]
    IdempotencyStore.release = _shared_release  # type: ignore[method-assign]
