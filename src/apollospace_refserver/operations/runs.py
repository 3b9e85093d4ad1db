"""Runs: list, get, cancel and the trace. The runner itself is agent_runner.py."""

from __future__ import annotations

import sqlite3
from typing import Any

from apollospace_refserver import agent_runner  # noqa: F401  registers the agent-runs worker
from apollospace_refserver.db import loads
from apollospace_refserver.errors import ApiError
from apollospace_refserver.handlers import Call, Result, handles
from apollospace_refserver.operations.common import fetch_owned, filtered_page


def render_run(row: sqlite3.Row) -> dict[str, Any]:
    return dict(loads(row["doc"]))


def run_by_id(call: Call, run_id: str) -> sqlite3.Row:
    return fetch_owned(call.conn, "runs", "run", run_id, call.org_id)


@handles("listRuns")
def list_runs(call: Call) -> Result:
    q = call.query
    where, args = ["org_id = ?"], [call.org_id]
    if q.get("agent_id"):
        where.append("agent_id = ?")
        args.append(q["agent_id"].lower())
    if q.get("status"):
        where.append("status = ?")
        args.append(q["status"])
    return Result(filtered_page(call, "runs", where, args, render_run))


@handles("getRun")
def get_run(call: Call) -> Result:
    return Result(render_run(run_by_id(call, call.path["run_id"])))


@handles("cancelRun")
def cancel_run(call: Call) -> Result:
    run = agent_runner.cancel_run(call.conn, run_by_id(call, call.path["run_id"]))
    if run is None:
        raise ApiError(409, "run_not_cancelable", "The run is already in a terminal state and cannot be canceled.")
    return Result(run)


@handles("getRunTrace")
def get_run_trace(call: Call) -> Result:
    row = run_by_id(call, call.path["run_id"])
    steps = call.conn.execute("SELECT doc FROM trace_steps WHERE run_id = ? ORDER BY step_index", (row["id"],)).fetchall()
    return Result({"run_id": row["id"], "steps": [loads(step["doc"]) for step in steps]})
