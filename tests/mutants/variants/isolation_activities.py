"""Breaks /req/organization/foreign-resource-404: listLeadActivities reads the timeline by lead id alone, so another organization's lead history is returned.

The lead lookup and the timeline query both key on the lead id only: any
tenant who learns a lead id reads its notes, emails and stage changes.
"""

from __future__ import annotations

from apollospace_refserver.errors import not_found
from apollospace_refserver.handlers import HANDLERS, Call, Result
from apollospace_refserver.operations.activities import _TIMELINE, render_activity
from apollospace_refserver.pagination import PageQuery, fetch_page, scope_of


def _list_lead_activities(call: Call) -> Result:
    lead = call.conn.execute("SELECT * FROM leads WHERE id = ?", (call.path["lead_id"].lower(),)).fetchone()
    if lead is None:
        raise not_found("lead")
    query = call.query
    where, args = ["lead_id = ?"], [lead["id"]]
    if query.get("type"):
        where.append("type = ?")
        args.append(query["type"])
    filters = {"lead_id": lead["id"], **{k: v for k, v in query.items() if k not in ("cursor", "limit")}}
    page = fetch_page(call.conn, call.services.cursors, scope_of("listLeadActivities", call.org_id, filters),
                      PageQuery(_TIMELINE, where, args, "occurred_at"), query.get("cursor"), query.get("limit"), render_activity)
    return Result(page)


def patch() -> None:
    HANDLERS["listLeadActivities"] = _list_lead_activities
