"""Breaks /req/agents/invoke-creates-run: the run is created without the metadata the invocation sent.

`metadata` is accepted by the request model but the partner's runs table has
no column for it, so every run comes back with `{}` and clients lose the
correlation ids they attached.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from apollospace_refserver import agent_runner
from apollospace_refserver.config import Settings

_original = agent_runner.start_run


def _start_run(conn: sqlite3.Connection, settings: Settings, org_id: str, agent_row: sqlite3.Row, user_id: str,
               body: dict[str, Any]) -> dict[str, Any]:
    return _original(conn, settings, org_id, agent_row, user_id, {key: value for key, value in body.items() if key != "metadata"})


def patch() -> None:
    agent_runner.start_run = _start_run
