"""Breaks /req/idempotency/replay: a replayed response carries a fresh `updated_at`, so it is not the first response.

The partner's idempotency layer keeps the stored response but passes it
through the resource serializer again on the way out, and that serializer
stamps `updated_at` with the time of rendering. Concurrent duplicates that
arrive after the first request finished are answered with such a replay, so
/req/idempotency/concurrent-duplicate ("the others get the first response")
breaks too.
"""

from __future__ import annotations

from apollospace_refserver.idempotency import IdempotencyStore, StoredResponse
from apollospace_refserver.timeutil import now_iso

_original = IdempotencyStore.claim


def _claim(self: IdempotencyStore, org_id: str, key: str, print_: str) -> StoredResponse | None:
    replay = _original(self, org_id, key, print_)
    if replay is not None and isinstance(replay.body, dict) and "updated_at" in replay.body:
        return StoredResponse(replay.status, replay.headers, {**replay.body, "updated_at": now_iso()})
    return replay


def patch() -> None:
    IdempotencyStore.claim = _claim  # type: ignore[method-assign]
