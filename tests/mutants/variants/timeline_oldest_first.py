"""Breaks /req/leads/activities-timeline: a lead's timeline is listed oldest first.

Chat-log order: the partner sorts the timeline ascending as its own UI shows
it, while the API promises the newest activity first.
"""

from __future__ import annotations

from apollospace_refserver.handlers import HANDLERS, Call, Result
from apollospace_refserver.operations import activities
from apollospace_refserver.pagination import PageQuery, fetch_page, scope_of


def _list_lead_activities(call: Call) -> Result:
    lead = activities.lead_by_id(call, call.path["lead_id"])
    q = call.query
    where, args = ["org_id = ?", "lead_id = ?"], [call.org_id, lead["id"]]
    if q.get("type"):
        where.append("type = ?")
        args.append(q["type"])
    filters = {"lead_id": lead["id"], **{k: v for k, v in q.items() if k not in ("cursor", "limit")}}
    return Result(fetch_page(
        call.conn, call.services.cursors, scope_of("listLeadActivities", call.org_id, filters),
        PageQuery(activities._TIMELINE, where, args, "occurred_at", descending=False),  # oldest first
        q.get("cursor"), q.get("limit"), activities.render_activity,
    ))


def patch() -> None:
    HANDLERS["listLeadActivities"] = _list_lead_activities
