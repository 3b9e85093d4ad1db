"""Breaks /req/webhooks/reply-detected-event: an inbound message is logged as a reply (and sends activity.created) but reply.detected is never sent.

The partner's reply detector runs in a nightly batch over the timeline
instead of on the write path, so the activity is recorded and announced as
an ordinary activity, while subscribers to reply.detected wait in vain.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from apollospace_refserver.operations import inbound_messages

_original = inbound_messages.emit_event


def _emit_event(conn: sqlite3.Connection, org_id: str, event_type: str, data: dict[str, Any]) -> None:
    if event_type == "reply.detected":
        return
    _original(conn, org_id, event_type, data)


def patch() -> None:
    inbound_messages.emit_event = _emit_event  # logInboundMessage's own fan-out; record_activity's activity.created is untouched
