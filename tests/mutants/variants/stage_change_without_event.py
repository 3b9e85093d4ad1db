"""Breaks /req/webhooks/activity-created-event: stage-change activities are recorded without sending activity.created (notes still send it).

System activities are written by the lead-update code path, which the
partner never hooked to the event publisher, so receivers see notes but
never see a lead move.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from apollospace_refserver.operations import activities

_original = activities.emit_event


def _emit_event(conn: sqlite3.Connection, org_id: str, event_type: str, data: dict[str, Any]) -> None:
    if event_type == "activity.created" and data["activity"]["type"] != "note":
        return
    _original(conn, org_id, event_type, data)


def patch() -> None:
    activities.emit_event = _emit_event
