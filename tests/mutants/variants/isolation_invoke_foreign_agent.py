"""Breaks /req/organization/foreign-resource-404: invokeAgent looks the agent up by its id alone, so any organization can run another's agent.

Reading an agent checks the organization; starting a run was written against
the agent table directly. The foreign caller does not get a 404 for the
agent: the request goes on to its other checks (here, the lead of the input),
so its answer differs from the one for an agent that does not exist.
"""

from __future__ import annotations

from apollospace_refserver import agent_runner
from apollospace_refserver.errors import not_found
from apollospace_refserver.handlers import HANDLERS, Call, Result
from apollospace_refserver.operations.common import fetch_owned, location


def _invoke_agent(call: Call) -> Result:
    agent = call.conn.execute("SELECT * FROM agents WHERE id = ?", (call.path["agent_id"].lower(),)).fetchone()
    if agent is None:
        raise not_found("agent")
    lead_id = call.body["input"].get("lead_id")
    if lead_id is not None:
        fetch_owned(call.conn, "leads", "lead", lead_id, call.org_id)
    run = agent_runner.start_run(call.conn, call.services.settings, call.org_id, agent, call.user_id, call.body)
    return Result(run, headers=location(f"/runs/{run['id']}"))


def patch() -> None:
    HANDLERS["invokeAgent"] = _invoke_agent
