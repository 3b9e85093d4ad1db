"""Breaks /req/webhooks/lead-created-event: disabled subscriptions still receive lead.created (the fan-out ignores `enabled`).

`enabled` is honored by the dashboard but the event fan-out selects
subscriptions by event type only, so pausing a failing receiver does not
stop the deliveries.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from apollospace_refserver import events
from apollospace_refserver.db import loads
from apollospace_refserver.operations import leads


def _emit_event(conn: sqlite3.Connection, org_id: str, event_type: str, data: dict[str, Any]) -> None:
    rows = conn.execute("SELECT id, doc FROM webhooks WHERE org_id = ? ORDER BY created_at, id", (org_id,)).fetchall()
    targets = [row["id"] for row in rows if event_type in loads(row["doc"])["events"]]  # `enabled` is not consulted
    if targets:
        payload = events.build_payload(org_id, event_type, data)
        for webhook_id in targets:
            events.queue_delivery(conn, org_id, webhook_id, payload)


def patch() -> None:
    leads.emit_event = _emit_event  # the leads surface's fan-out (createLead, imports)
