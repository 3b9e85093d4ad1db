"""Breaks /req/organization/list-isolation: listRuns forgets the organization, so every organization's agent runs are listed.

The run list is built from its optional filters (agent, status); the tenant
condition was never among them, so each caller sees what every other
organization's agents did.
"""

from __future__ import annotations

from typing import Any

from apollospace_refserver.handlers import HANDLERS, Call, Result
from apollospace_refserver.operations.common import filtered_page
from apollospace_refserver.operations.runs import render_run


def _list_runs(call: Call) -> Result:
    where: list[str] = []
    args: list[Any] = []
    if call.query.get("agent_id"):
        where.append("agent_id = ?")
        args.append(call.query["agent_id"].lower())
    if call.query.get("status"):
        where.append("status = ?")
        args.append(call.query["status"])
    return Result(filtered_page(call, "runs", where, args, render_run))


def patch() -> None:
    HANDLERS["listRuns"] = _list_runs
