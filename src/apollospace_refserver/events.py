"""Webhook events: placeholder until the webhooks surface lands (see operations/webhooks.py)."""

from __future__ import annotations

import sqlite3
from typing import Any


def emit_event(conn: sqlite3.Connection, org_id: str, event_type: str, data: dict[str, Any]) -> None:
    """Queue `event_type` for every enabled subscription of the organization."""
