"""Agents: list, get, invoke (which creates a run; see agent_runner.py)."""

from __future__ import annotations

import sqlite3
from typing import Any

from apollospace_refserver import agent_runner
from apollospace_refserver.db import loads
from apollospace_refserver.handlers import Call, Result, handles
from apollospace_refserver.operations.common import fetch_owned, location
from apollospace_refserver.pagination import PageQuery, fetch_page, scope_of
from apollospace_refserver.stars_ledger import agent_daily_cap, caps_row


def render_agent(row: sqlite3.Row, caps: dict[str, Any]) -> dict[str, Any]:
    """`Agent`, with the daily cap in effect for it; `updated_at` moves when that cap changes."""
    doc = loads(row["doc"])
    return {
        "id": row["id"],
        "name": doc["name"],
        "persona": doc["persona"],
        "description": doc["description"],
        "tools": list(doc["tools"]),
        "daily_cap_stars": agent_daily_cap(caps, row["id"]),
        "created_at": row["created_at"],
        "updated_at": doc.get("updated_at") or row["created_at"],
    }


def agent_by_id(call: Call, agent_id: str) -> sqlite3.Row:
    return fetch_owned(call.conn, "agents", "agent", agent_id, call.org_id)


@handles("listAgents")
def list_agents(call: Call) -> Result:
    q = call.query
    caps, _ = caps_row(call.conn, call.org_id)
    filters = {k: v for k, v in q.items() if k not in ("cursor", "limit")}
    page = fetch_page(
        call.conn, call.services.cursors, scope_of("listAgents", call.org_id, filters),
        PageQuery("FROM agents", ["org_id = ?"], [call.org_id], "created_at", descending=False),
        q.get("cursor"), q.get("limit"), lambda row: render_agent(row, caps),
    )
    return Result(page)


@handles("getAgent")
def get_agent(call: Call) -> Result:
    caps, _ = caps_row(call.conn, call.org_id)
    return Result(render_agent(agent_by_id(call, call.path["agent_id"]), caps))


@handles("invokeAgent")
def invoke_agent(call: Call) -> Result:
    agent = agent_by_id(call, call.path["agent_id"])
    lead_id = call.body["input"].get("lead_id")
    if lead_id is not None:
        fetch_owned(call.conn, "leads", "lead", lead_id, call.org_id)
    run = agent_runner.start_run(call.conn, call.services.settings, call.org_id, agent, call.user_id, call.body)
    return Result(run, headers=location(f"/runs/{run['id']}"))
