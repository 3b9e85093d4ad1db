"""Inbound messages: a message the lead sent, logged on its timeline as a reply."""

from __future__ import annotations

from apollospace_refserver.events import emit_event
from apollospace_refserver.handlers import Call, Result, handles
from apollospace_refserver.operations.activities import record_activity
from apollospace_refserver.operations.common import location
from apollospace_refserver.operations.leads import lead_by_id

# Replies are logged by the system, not by the caller who reports them (ActivityActor).
SYSTEM_ACTOR = {"type": "system", "id": None}


@handles("logInboundMessage")
def log_inbound_message(call: Call) -> Result:
    """Record the message as an `is_reply` activity of its channel (which sends activity.created), then send reply.detected."""
    lead = lead_by_id(call, call.path["lead_id"])
    channel = call.body["channel"]
    activity = record_activity(call, lead["id"], channel, call.body["body"], actor=SYSTEM_ACTOR, is_reply=True)
    emit_event(call.conn, call.org_id, "reply.detected", {"activity": activity, "lead_id": activity["lead_id"], "channel": channel})
    return Result(activity, headers=location(f"/leads/{lead['id']}/activities"))
