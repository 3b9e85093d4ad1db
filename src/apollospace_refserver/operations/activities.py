"""Activities: a lead's timeline (newest first) and notes added to it."""

from __future__ import annotations

import sqlite3
from typing import Any

from apollospace_refserver.db import dumps, loads
from apollospace_refserver.events import emit_event
from apollospace_refserver.handlers import Call, Result, handles
from apollospace_refserver.ids import new_id
from apollospace_refserver.operations.common import location
from apollospace_refserver.operations.leads import lead_by_id
from apollospace_refserver.pagination import PageQuery, fetch_page, scope_of
from apollospace_refserver.timeutil import now_iso

# The timeline's sort key lives in the document; the expression index in
# db.SCHEMA (activities_by_lead_occurred) serves this ordering.
_TIMELINE = "FROM (SELECT *, json_extract(doc, '$.occurred_at') AS occurred_at FROM activities)"


def render_activity(row: sqlite3.Row) -> dict[str, Any]:
    return dict(loads(row["doc"]))


def record_activity(
    call: Call,
    lead_id: str,
    type: str,  # noqa: A002  the Activity field's name
    body: str | None,
    actor: dict[str, Any],
    *,
    is_reply: bool = False,
    occurred_at: str | None = None,
) -> dict[str, Any]:
    """Add an activity to the timeline of `lead_id` (already checked to be the caller's
    organization's), send `activity.created`, and return the Activity."""
    stamp = now_iso()
    actor_id = actor.get("id")
    activity = {
        "id": new_id(),
        "lead_id": lead_id.lower(),
        "type": type,
        "body": body,
        "actor": {"type": actor["type"], "id": actor_id.lower() if actor_id else None},
        "is_reply": is_reply,
        "occurred_at": occurred_at or stamp,
        "created_at": stamp,
    }
    call.conn.execute(
        "INSERT INTO activities (id, org_id, lead_id, type, doc, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (activity["id"], call.org_id, activity["lead_id"], type, dumps(activity), stamp),
    )
    emit_event(call.conn, call.org_id, "activity.created", {"activity": activity})
    return activity


@handles("listLeadActivities")
def list_lead_activities(call: Call) -> Result:
    lead = lead_by_id(call, call.path["lead_id"])
    q = call.query
    where, args = ["org_id = ?", "lead_id = ?"], [call.org_id, lead["id"]]
    if q.get("type"):
        where.append("type = ?")
        args.append(q["type"])
    filters = {"lead_id": lead["id"], **{k: v for k, v in q.items() if k not in ("cursor", "limit")}}
    page = fetch_page(
        call.conn, call.services.cursors, scope_of("listLeadActivities", call.org_id, filters),
        PageQuery(_TIMELINE, where, args, "occurred_at"),
        q.get("cursor"), q.get("limit"), render_activity,
    )
    return Result(page)


@handles("createLeadActivity")
def create_lead_activity(call: Call) -> Result:
    lead = lead_by_id(call, call.path["lead_id"])
    activity = record_activity(call, lead["id"], "note", call.body["body"], actor={"type": "user", "id": call.user_id})
    return Result(activity, headers=location(f"/leads/{lead['id']}/activities"))
