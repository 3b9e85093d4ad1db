"""Breaks /req/agents/cancel: cancelRun answers 200 with the run marked canceled, but nothing is saved and the run goes on.

The partner's cancel endpoint publishes a "cancel requested" message and
answers optimistically with the run as it will be; the runner never
subscribed to that message, so the run keeps running (and spending).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from apollospace_refserver import agent_runner
from apollospace_refserver.db import loads
from apollospace_refserver.timeutil import now_iso


def _cancel_run(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any] | None:
    run = loads(row["doc"])
    if run["status"] not in agent_runner.LIVE:
        return None
    return {**run, "status": "canceled", "finished_at": now_iso()}  # the answer only: the run is not touched


def patch() -> None:
    agent_runner.cancel_run = _cancel_run
