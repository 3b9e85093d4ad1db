"""Breaks /req/idempotency/concurrent-duplicate: the key is looked up, then claimed in a separate step, so racing duplicates all run.

Check-then-insert without a unique constraint (or with `INSERT OR REPLACE`)
is the textbook idempotency race: sequential retries replay correctly, but
duplicates that arrive within the window between the lookup and the claim
each run the operation (and, on a billable call, each charge). The window is
widened to 200 ms here so the race shows every time. Such a server handles
requests concurrently, on threads, as the reference server did before it ran
short requests on its event loop one at a time (which would hide the window):
the variant sends every request to the thread pool.
"""

from __future__ import annotations

import time

from apollospace_refserver import inline
from apollospace_refserver.db import loads
from apollospace_refserver.errors import ApiError
from apollospace_refserver.idempotency import IdempotencyStore, StoredResponse

WINDOW_SECONDS = 0.2


def _claim(self: IdempotencyStore, org_id: str, key: str, print_: str) -> StoredResponse | None:
    with self._db.transaction() as conn:
        row = conn.execute("SELECT * FROM idempotency_keys WHERE org_id = ? AND key = ?", (org_id, key)).fetchone()
    if row is None:
        time.sleep(WINDOW_SECONDS)  # e.g. a round trip to the cache between "get" and "set"
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO idempotency_keys (org_id, key, fingerprint, state, created_at) VALUES (?, ?, ?, 'in_progress', ?)",
                (org_id, key, print_, time.time()),
            )
        return None
    if row["fingerprint"] != print_:
        raise ApiError(409, "idempotency_key_reused", "This Idempotency-Key was already used with a different request.")
    if row["state"] != "done":
        raise ApiError(409, "idempotency_request_in_progress", "A request with this Idempotency-Key is still being processed; retry shortly.")
    return StoredResponse(row["status"], loads(row["headers"]), loads(row["body"]))


def _on_threads(*_args: object) -> bool:
    return False


def patch() -> None:
    IdempotencyStore.claim = _claim  # type: ignore[method-assign]
    inline.may_run_inline = _on_threads  # type: ignore[assignment]
