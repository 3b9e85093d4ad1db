"""Breaks /req/organization/foreign-resource-404: getLead reads the lead by id alone, so another organization's lead is returned.

The classic insecure direct object reference: the list query filters by
organization, but the read-by-id query was written as `WHERE id = ?`.
"""

from __future__ import annotations

from apollospace_refserver.errors import not_found
from apollospace_refserver.handlers import HANDLERS, Call, Result
from apollospace_refserver.operations.leads import render_lead


def _get_lead(call: Call) -> Result:
    row = call.conn.execute("SELECT * FROM leads WHERE id = ?", (call.path["lead_id"].lower(),)).fetchone()
    if row is None:
        raise not_found("lead")
    return Result(render_lead(call.conn, row))


def patch() -> None:
    HANDLERS["getLead"] = _get_lead
