"""Idempotency-Key: the first response replayed, reuse and races refused.

A key is claimed (state `in_progress`) in its own committed transaction before
the handler runs; the handler's writes and the stored response then commit
together. A duplicate that arrives meanwhile gets 409
`idempotency_request_in_progress`; one that arrives after gets the replay.
A request run inline on the event loop holds the database lock throughout,
so nothing can arrive meanwhile: the dispatcher puts its claim in the same
transaction as its effect (app.py).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from apollospace_refserver.db import Database, dumps, loads
from apollospace_refserver.errors import ApiError
from apollospace_refserver.fastjson import dumps_text

PURGE_INTERVAL_SECONDS = 1.0


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: Any


def fingerprint(user_id: str, method: str, path: str, body: Any) -> str:
    material = json.dumps([user_id, method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class IdempotencyStore:
    def __init__(self, db: Database, retention_seconds: float) -> None:
        self._db = db
        self._retention = retention_seconds
        self._last_purge = 0.0  # read and written inside transactions, under the database lock

    def claim(self, org_id: str, key: str, print_: str) -> StoredResponse | None:
        """Claim the key for a new request, or return the response to replay."""
        with self._db.transaction() as conn:
            now = time.time()
            expired_before = now - self._retention
            # The purge scans the whole table (no index on created_at): at most once a
            # second, not on every POST; an expired row met before then is dropped here.
            if now - self._last_purge >= PURGE_INTERVAL_SECONDS:
                conn.execute("DELETE FROM idempotency_keys WHERE created_at < ?", (expired_before,))
                self._last_purge = now
            row = conn.execute("SELECT * FROM idempotency_keys WHERE org_id = ? AND key = ?", (org_id, key)).fetchone()
            if row is not None and row["created_at"] < expired_before:
                conn.execute("DELETE FROM idempotency_keys WHERE org_id = ? AND key = ?", (org_id, key))
                row = None
            if row is None:
                conn.execute(
                    "INSERT INTO idempotency_keys (org_id, key, fingerprint, state, created_at) VALUES (?, ?, ?, 'in_progress', ?)",
                    (org_id, key, print_, now),
                )
                return None
        if row["fingerprint"] != print_:
            raise ApiError(409, "idempotency_key_reused", "This Idempotency-Key was already used with a different request.")
        if row["state"] != "done":
            raise ApiError(409, "idempotency_request_in_progress", "A request with this Idempotency-Key is still being processed; retry shortly.")
        return StoredResponse(row["status"], loads(row["headers"]), loads(row["body"]))

    def complete(self, conn: Any, org_id: str, key: str, response: StoredResponse) -> None:
        """Store the response; call inside the handler's transaction."""
        conn.execute(
            "UPDATE idempotency_keys SET state = 'done', status = ?, headers = ?, body = ? WHERE org_id = ? AND key = ?",
            (response.status, dumps(response.headers), dumps_text(response.body), org_id, key),
        )

    def release(self, org_id: str, key: str) -> None:
        """Forget a claim whose request failed, so a retry can run again."""
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM idempotency_keys WHERE org_id = ? AND key = ? AND state = 'in_progress'", (org_id, key))

    def release_abandoned(self) -> None:
        """At start-up: claims left by a crash never committed their effect."""
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM idempotency_keys WHERE state = 'in_progress'")
