"""Breaks /req/webhooks/delivery-log: a delivery keeps only its latest attempt; earlier ones vanish from the log.

The deliveries table has a single `last_attempt` column, overwritten on each
try, so the log never shows the 500 that caused a retry.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from apollospace_refserver import webhook_delivery
from apollospace_refserver.db import dumps, loads

_original = webhook_delivery.record


def _record(conn: sqlite3.Connection, job: webhook_delivery.Job, outcome: dict[str, Any], schedule: tuple[float, ...]) -> None:
    _original(conn, job, outcome, schedule)
    row = conn.execute("SELECT attempts FROM deliveries WHERE id = ?", (job.delivery_id,)).fetchone()
    if row is not None:
        conn.execute("UPDATE deliveries SET attempts = ? WHERE id = ?", (dumps(loads(row["attempts"])[-1:]), job.delivery_id))


def patch() -> None:
    webhook_delivery.record = _record
