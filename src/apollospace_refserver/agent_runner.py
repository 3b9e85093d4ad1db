"""Agent runs: a deterministic plan per input, executed step by step in the background.

A run's plan (3 to 6 actions: a model call, tool calls and model calls, and a
final message) and the Stars cost of each billable action (3 to 40) derive
from a hash of the run's input, so the same input always costs the same.

The `agent-runs` worker advances one live run by one action per tick, each in
ONE transaction: for a billable action the budget check (a `budget_check`
step), then the debit with its ledger lines, the action's trace step and the
run's `stars_cost`. A cap that fires at the check ends the run `blocked`.
Between actions the run waits `settings.run_step_seconds`. Because every
action is one transaction, a `cancelRun` (also one transaction) lands between
two actions: no later action starts nor is debited. The schedule lives in the
`run_queue` table, so a restarted server resumes its live runs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from apollospace_refserver.config import Settings
from apollospace_refserver.db import dumps, loads
from apollospace_refserver.ids import new_id
from apollospace_refserver.services import Services
from apollospace_refserver.stars_ledger import blocked_error, debit, first_blocking_cap
from apollospace_refserver.timeutil import now_iso, parse_instant
from apollospace_refserver.workers import worker

log = logging.getLogger("apollospace_refserver.agent_runner")
LIVE = ("queued", "running")
TERMINAL = ("succeeded", "failed", "canceled", "blocked")
MODEL = "claude-sonnet-4"
BILLABLE = ("model_call", "tool_call")


@dataclass(frozen=True)
class Action:
    """One planned step of a run (a budget check is added before each billable one)."""

    type: str
    name: str
    input: dict[str, Any]
    output: dict[str, Any]
    stars_cost: int


# --- the plan ---------------------------------------------------------------------------


def _digest(run_input: dict[str, Any]) -> bytes:
    material = json.dumps([run_input["prompt"], run_input.get("lead_id")], ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(material).digest() + hashlib.sha256(b"costs\x00" + material).digest()


def _tool_call(name: str, prompt: str, lead_id: str | None, byte: int) -> tuple[dict[str, Any], dict[str, Any]]:
    subject = prompt[:200]
    if name == "web_search":
        return {"query": subject}, {"results": 3 + byte % 8}
    if name == "company_enrichment":
        return {"query": subject}, {"fields_found": 1 + byte % 6}
    if name == "lead_lookup":
        return ({"lead_id": lead_id} if lead_id else {"query": subject}), {"found": lead_id is not None or byte % 2 == 0}
    if name == "lead_update":
        fields = ["company_name", "website", "city", "custom_fields.fleet_size", "custom_fields.decision_maker"]
        return {"lead_id": lead_id, "mode": "proposal"}, {"proposed_fields": fields[: 1 + byte % len(fields)]}
    if name == "message_draft":
        return {"lead_id": lead_id, "channel": ("email", "whatsapp", "linkedin")[byte % 3]}, {"draft_chars": 240 + byte}
    if name == "agent_delegate":
        return {"to": ("Scout", "Marcus")[byte % 2], "task": subject}, {"accepted": True}
    return {"request": subject}, {"status": "ok", "items": 1 + byte % 5}


def plan_for(agent: dict[str, Any], run_input: dict[str, Any]) -> list[Action]:
    """The actions a run of `agent` on `run_input` performs; the same input gives the same plan."""
    digest = _digest(run_input)
    prompt, lead_id = run_input["prompt"], run_input.get("lead_id")
    tools = list(agent.get("tools") or [])
    count = 3 + digest[0] % 4
    prompt_tokens = 350 + len(prompt) // 4 + digest[1] * 3
    actions = [Action("model_call", MODEL, {"purpose": "plan", "prompt_tokens": prompt_tokens},
                      {"completion_tokens": 80 + digest[2]}, 3 + digest[32] % 38)]
    for position in range(1, count - 1):
        kind, pick, detail = digest[3 + 3 * position], digest[4 + 3 * position], digest[5 + 3 * position]
        cost = 3 + digest[32 + position] % 38
        if tools and kind % 3:
            tool = tools[pick % len(tools)]
            tool_input, tool_output = _tool_call(tool, prompt, lead_id, detail)
            actions.append(Action("tool_call", tool, tool_input, tool_output, cost))
        else:
            actions.append(Action("model_call", MODEL, {"purpose": "reason", "prompt_tokens": prompt_tokens + 120 * position},
                                  {"completion_tokens": 60 + detail}, cost))
    used = sorted({a.name for a in actions if a.type == "tool_call"})
    subject = prompt if len(prompt) <= 120 else prompt[:117] + "..."
    name = agent.get("name", "Agent")
    if agent.get("persona") == "outbound":
        text = f"{name} drafted a message for “{subject}”; it waits for your approval before it is sent."
        actions.append(Action("message", "draft_message", {"lead_id": lead_id}, {"text": text, "approval": "pending"}, 0))
    else:
        detail = f" using {', '.join(used)}" if used else ""
        text = f"{name} finished “{subject}” in {count - 1} steps{detail}."
        actions.append(Action("message", "final_answer", {"lead_id": lead_id}, {"text": text}, 0))
    return actions


# --- runs -------------------------------------------------------------------------------


def _save(conn: sqlite3.Connection, run: dict[str, Any]) -> None:
    conn.execute("UPDATE runs SET status = ?, doc = ? WHERE id = ?", (run["status"], dumps(run), run["id"]))


def _finish(conn: sqlite3.Connection, run: dict[str, Any], status: str, *, blocked_by: str | None = None) -> None:
    run.update(status=status, blocked_by=blocked_by, finished_at=now_iso())
    _save(conn, run)
    conn.execute("DELETE FROM run_queue WHERE run_id = ?", (run["id"],))


def start_run(
    conn: sqlite3.Connection, settings: Settings, org_id: str, agent_row: sqlite3.Row, user_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Create a `queued` run, after the Stars checks for its first billable step (409 when one fires)."""
    agent = loads(agent_row["doc"])
    lead_id = body["input"].get("lead_id")
    run_input = {"prompt": body["input"]["prompt"], "lead_id": lead_id.lower() if lead_id else None}
    first_cost = next(action.stars_cost for action in plan_for(agent, run_input) if action.stars_cost)
    cap = first_blocking_cap(conn, org_id, agent_row["id"], user_id, first_cost)
    if cap is not None:
        raise blocked_error(cap)
    run = {
        "id": new_id(), "agent_id": agent_row["id"], "status": "queued", "input": run_input, "output": None,
        "stars_cost": 0, "blocked_by": None, "invoked_by": user_id, "created_at": now_iso(),
        "started_at": None, "finished_at": None, "metadata": dict(body.get("metadata") or {}),
    }
    conn.execute(
        "INSERT INTO runs (id, org_id, agent_id, status, invoked_by, doc, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (run["id"], org_id, run["agent_id"], run["status"], user_id, dumps(run), run["created_at"]),
    )
    conn.execute(
        "INSERT INTO run_queue (run_id, org_id, next_action, next_step_at) VALUES (?, ?, 0, ?)",
        (run["id"], org_id, time.time() + settings.run_step_seconds),
    )
    return run


def cancel_run(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any] | None:
    """Cancel a live run and return it, or None when it is already terminal."""
    run = loads(row["doc"])
    if run["status"] not in LIVE:
        return None
    _finish(conn, run, "canceled")
    return dict(run)


# --- the worker -------------------------------------------------------------------------


def _step(
    index: int, action_type: str, name: str, step_input: dict[str, Any], output: dict[str, Any] | None,
    stars_cost: int, status: str, started_at: str,
) -> dict[str, Any]:
    finished_at = now_iso()
    duration = parse_instant(finished_at) - parse_instant(started_at)
    return {
        "index": index, "type": action_type, "name": name, "input": step_input, "output": output,
        "stars_cost": stars_cost, "status": status, "started_at": started_at, "finished_at": finished_at,
        "duration_ms": max(0, int(duration.total_seconds() * 1000)),
    }


def _record(conn: sqlite3.Connection, run_id: str, step: dict[str, Any]) -> None:
    conn.execute("INSERT INTO trace_steps (run_id, step_index, doc) VALUES (?, ?, ?)", (run_id, step["index"], dumps(step)))


def _lead_missing(conn: sqlite3.Connection, org_id: str, run: dict[str, Any], action: Action) -> bool:
    """A lead tool call about a lead deleted since the run was invoked fails."""
    lead_id = run["input"]["lead_id"]
    if action.type != "tool_call" or action.name not in ("lead_lookup", "lead_update") or lead_id is None:
        return False
    return conn.execute("SELECT 1 FROM leads WHERE id = ? AND org_id = ?", (lead_id, org_id)).fetchone() is None


def advance(conn: sqlite3.Connection, settings: Settings, run_id: str) -> None:
    """Move one live run forward by one action (or from queued to running)."""
    queued = conn.execute("SELECT * FROM run_queue WHERE run_id = ?", (run_id,)).fetchone()
    row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
    if queued is None:
        return
    if row is None or loads(row["doc"])["status"] not in LIVE:
        conn.execute("DELETE FROM run_queue WHERE run_id = ?", (run_id,))
        return
    run, org_id = loads(row["doc"]), row["org_id"]
    if run["status"] == "queued":
        run.update(status="running", started_at=now_iso())
        _save(conn, run)
        conn.execute("UPDATE run_queue SET next_step_at = ? WHERE run_id = ?", (time.time() + settings.run_step_seconds, run_id))
        return
    agent_row = conn.execute("SELECT doc FROM agents WHERE id = ?", (run["agent_id"],)).fetchone()
    plan = plan_for(loads(agent_row["doc"]), run["input"])
    position = int(queued["next_action"])
    index = int(conn.execute("SELECT COUNT(*) AS n FROM trace_steps WHERE run_id = ?", (run_id,)).fetchone()["n"])
    if position >= len(plan):  # nothing left (only after a crash between steps)
        _finish(conn, run, "succeeded")
        return
    action = plan[position]
    if action.stars_cost:
        started = now_iso()
        cap = first_blocking_cap(conn, org_id, run["agent_id"], run["invoked_by"], action.stars_cost)
        check = _step(index, "budget_check", "stars_budget", {"estimated_stars": action.stars_cost},
                      {"allowed": cap is None, "blocked_by": cap}, 0, "succeeded" if cap is None else "blocked", started)
        _record(conn, run_id, check)
        index += 1
        if cap is not None:
            _finish(conn, run, "blocked", blocked_by=cap)
            return
    started = now_iso()
    if _lead_missing(conn, org_id, run, action):
        _record(conn, run_id, _step(index, action.type, action.name, action.input, None, 0, "failed", started))
        _finish(conn, run, "failed")
        return
    if action.stars_cost:
        agent_name = loads(agent_row["doc"]).get("name", "Agent")
        debit(conn, org_id, action.stars_cost, description=f"{agent_name}: {action.name}",
              agent_id=run["agent_id"], run_id=run_id, user_id=run["invoked_by"])
        run["stars_cost"] += action.stars_cost
    _record(conn, run_id, _step(index, action.type, action.name, action.input, action.output, action.stars_cost, "succeeded", started))
    if position + 1 == len(plan):
        run["output"] = {"text": action.output["text"]}
        _finish(conn, run, "succeeded")
        return
    _save(conn, run)
    conn.execute(
        "UPDATE run_queue SET next_action = ?, next_step_at = ? WHERE run_id = ?",
        (position + 1, time.time() + settings.run_step_seconds, run_id),
    )


@worker("agent-runs")
def run_agents(services: Services) -> bool:
    """Advance the live run that is due first; False when none is due."""
    with services.db.transaction() as conn:
        due = conn.execute(
            "SELECT run_id FROM run_queue WHERE next_step_at <= ? ORDER BY next_step_at, run_id LIMIT 1", (time.time(),)
        ).fetchone()
    if due is None:
        return False
    run_id = due["run_id"]
    try:
        with services.db.transaction() as conn:
            advance(conn, services.settings, run_id)
    except Exception:
        log.exception("run %s failed in the runner; marking it failed", run_id)
        with services.db.transaction() as conn:
            row = conn.execute("SELECT doc FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is not None and loads(row["doc"])["status"] in LIVE:
                _finish(conn, loads(row["doc"]), "failed")
            conn.execute("DELETE FROM run_queue WHERE run_id = ?", (run_id,))
    return True
