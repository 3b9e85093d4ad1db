"""Breaks /req/leads/delete-then-404: deleteLead answers 204 but the lead stays readable (and listed) until a purge that never comes.

Deletes are queued for a nightly purge job "so they can be undone"; until
then every read still serves the deleted lead as if nothing happened.
"""

from __future__ import annotations

from apollospace_refserver.handlers import HANDLERS, Call, Result
from apollospace_refserver.operations.leads import lead_by_id


def _delete_lead(call: Call) -> Result:
    lead_by_id(call, call.path["lead_id"])  # still 404 for an unknown lead
    return Result(status=204)  # the purge is "scheduled"


def patch() -> None:
    HANDLERS["deleteLead"] = _delete_lead
