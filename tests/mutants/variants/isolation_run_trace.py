"""Breaks /req/organization/foreign-resource-404: getRunTrace reads the run by its id alone, so another organization's trace is returned.

getRun checks the organization; the trace endpoint, added later, queries the
run with `WHERE id = ?` and hands out every step of a stranger's agent run.
"""

from __future__ import annotations

from apollospace_refserver.db import loads
from apollospace_refserver.errors import not_found
from apollospace_refserver.handlers import HANDLERS, Call, Result


def _get_run_trace(call: Call) -> Result:
    row = call.conn.execute("SELECT * FROM runs WHERE id = ?", (call.path["run_id"].lower(),)).fetchone()
    if row is None:
        raise not_found("run")
    steps = call.conn.execute("SELECT doc FROM trace_steps WHERE run_id = ? ORDER BY step_index", (row["id"],)).fetchall()
    return Result({"run_id": row["id"], "steps": [loads(step["doc"]) for step in steps]})


def patch() -> None:
    HANDLERS["getRunTrace"] = _get_run_trace
