"""Stars: the balance, the ledger and the caps. Debits and checks live in stars_ledger.py."""

from __future__ import annotations

from typing import Any

from apollospace_refserver.db import dumps, loads
from apollospace_refserver.errors import ApiError, not_found
from apollospace_refserver.handlers import Call, Result, handles
from apollospace_refserver.operations.common import filtered_page
from apollospace_refserver.stars_ledger import (
    agent_daily_cap,
    caps_row,
    render_balance,
    render_caps,
    render_line,
    wallet,
)
from apollospace_refserver.timeutil import now_iso

# Who sees the wallet's compartments; any other role allowed in sees only the total.
COMPARTMENT_ROLES = ("owner", "admin")


@handles("getStarsBalance")
def get_stars_balance(call: Call) -> Result:
    current = wallet(call.conn, call.org_id)
    return Result(render_balance(current, compartments=call.role in COMPARTMENT_ROLES))


@handles("listStarsTransactions")
def list_stars_transactions(call: Call) -> Result:
    q = call.query
    wallet(call.conn, call.org_id)  # a period that ended writes its expiry and grant lines first
    where, args = ["org_id = ?"], [call.org_id]
    if q.get("type"):
        where.append("type = ?")
        args.append(q["type"])
    if q.get("agent_id"):
        where.append("agent_id = ?")
        args.append(q["agent_id"].lower())
    return Result(filtered_page(call, "stars_transactions", where, args, render_line))


@handles("getStarsCaps")
def get_stars_caps(call: Call) -> Result:
    return Result(render_caps(*caps_row(call.conn, call.org_id)))


def _normalized(body: dict[str, Any]) -> dict[str, Any]:
    """The caps as stored: ids lowercased, one entry per agent and per user and agent (else 400)."""
    agents = [{"agent_id": e["agent_id"].lower(), "daily": e["daily"]} for e in body["agents"]]
    pairs = [{"user_id": e["user_id"].lower(), "agent_id": e["agent_id"].lower(), "monthly": e["monthly"]} for e in body["user_agent_monthly"]]
    if len({e["agent_id"] for e in agents}) != len(agents):
        raise ApiError(400, "duplicate_cap_entry", "agents has more than one entry for the same agent_id.")
    if len({(e["user_id"], e["agent_id"]) for e in pairs}) != len(pairs):
        raise ApiError(400, "duplicate_cap_entry", "user_agent_monthly has more than one entry for the same user_id and agent_id.")
    return {
        "organization_monthly": body["organization_monthly"],
        "agent_daily_default": body["agent_daily_default"],
        "agents": agents,
        "user_agent_monthly": pairs,
    }


@handles("updateStarsCaps")
def update_stars_caps(call: Call) -> Result:
    new = _normalized(call.body)
    conn = call.conn
    agent_rows = conn.execute("SELECT id, doc FROM agents WHERE org_id = ?", (call.org_id,)).fetchall()
    known_agents = {row["id"] for row in agent_rows}
    for entry in [*new["agents"], *new["user_agent_monthly"]]:
        if entry["agent_id"] not in known_agents:
            raise not_found("agent")
    members = {row["user_id"] for row in conn.execute("SELECT user_id FROM memberships WHERE org_id = ?", (call.org_id,))}
    for entry in new["user_agent_monthly"]:
        if entry["user_id"] not in members:
            raise ApiError(400, "user_not_member", f"user_id {entry['user_id']} is not a member of this organization.")
    old, updated_at = caps_row(conn, call.org_id)
    if new != old:
        updated_at = now_iso()
        conn.execute("UPDATE stars_caps SET doc = ?, updated_at = ? WHERE org_id = ?", (dumps(new), updated_at, call.org_id))
        for row in agent_rows:  # an agent whose daily cap in effect changed was updated
            if agent_daily_cap(old, row["id"]) != agent_daily_cap(new, row["id"]):
                doc = {**loads(row["doc"]), "updated_at": updated_at}
                conn.execute("UPDATE agents SET doc = ? WHERE id = ?", (dumps(doc), row["id"]))
    return Result(render_caps(new, updated_at))
