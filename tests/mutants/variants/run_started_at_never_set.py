"""Breaks /req/agents/run-lifecycle: a run's `started_at` stays null while it runs and after it ends.

The runner flips the status to `running` but the timestamp is set by a
different code path (the one for scheduled runs), so invoked runs never get it.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from apollospace_refserver import agent_runner

_original = agent_runner._save


def _save(conn: sqlite3.Connection, run: dict[str, Any]) -> None:
    _original(conn, {**run, "started_at": None})


def patch() -> None:
    agent_runner._save = _save
