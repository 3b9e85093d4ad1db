"""SQLite storage: one connection behind one lock, WAL on files.

All access goes through `Database.transaction()`, so a debit and its ledger
line, a lead and its import result, a response and its idempotency record
always commit together or not at all.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from apollospace_refserver.fair_lock import FairLock

SCHEMA = """
CREATE TABLE IF NOT EXISTS organizations (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS memberships (
    org_id TEXT NOT NULL, user_id TEXT NOT NULL, role TEXT NOT NULL,
    PRIMARY KEY (org_id, user_id));
CREATE TABLE IF NOT EXISTS pipelines (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, name TEXT NOT NULL, is_default INTEGER NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stages (
    id TEXT PRIMARY KEY, pipeline_id TEXT NOT NULL, org_id TEXT NOT NULL, name TEXT NOT NULL,
    position INTEGER NOT NULL, archived_at TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS leads (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, pipeline_id TEXT NOT NULL, stage_id TEXT NOT NULL,
    owner_id TEXT, email TEXT, phone TEXT, doc TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS leads_by_org ON leads (org_id, created_at DESC, id DESC);
CREATE TABLE IF NOT EXISTS lead_tags (lead_id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (lead_id, tag));
CREATE TABLE IF NOT EXISTS activities (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, lead_id TEXT NOT NULL, type TEXT NOT NULL,
    doc TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lead_imports (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, status TEXT NOT NULL, request TEXT NOT NULL,
    created_by TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, completed_at TEXT);
CREATE TABLE IF NOT EXISTS lead_import_results (
    import_id TEXT NOT NULL, row_index INTEGER NOT NULL, outcome TEXT NOT NULL, lead_id TEXT,
    error TEXT, PRIMARY KEY (import_id, row_index));
CREATE TABLE IF NOT EXISTS agents (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, doc TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, agent_id TEXT NOT NULL, status TEXT NOT NULL,
    invoked_by TEXT NOT NULL, doc TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trace_steps (
    run_id TEXT NOT NULL, step_index INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (run_id, step_index));
CREATE TABLE IF NOT EXISTS wallets (
    org_id TEXT PRIMARY KEY, monthly INTEGER NOT NULL, package INTEGER NOT NULL,
    period_start TEXT NOT NULL, period_end TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stars_transactions (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, type TEXT NOT NULL, agent_id TEXT, run_id TEXT,
    user_id TEXT, doc TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stars_caps (org_id TEXT PRIMARY KEY, doc TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS webhooks (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, doc TEXT NOT NULL, secret TEXT NOT NULL,
    previous_secret TEXT, previous_secret_expires_at TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, webhook_id TEXT NOT NULL, event_id TEXT NOT NULL,
    event_type TEXT NOT NULL, status TEXT NOT NULL, payload TEXT NOT NULL, test INTEGER NOT NULL,
    attempts TEXT NOT NULL, next_attempt_at TEXT, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS webhooks_by_org ON webhooks (org_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS deliveries_by_webhook ON deliveries (webhook_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS deliveries_by_created ON deliveries (created_at);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    org_id TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, state TEXT NOT NULL,
    status INTEGER, headers TEXT, body TEXT, created_at REAL NOT NULL, PRIMARY KEY (org_id, key));
-- activities, pipelines, lead imports
CREATE INDEX IF NOT EXISTS activities_by_lead_occurred ON activities (lead_id, json_extract(doc, '$.occurred_at') DESC, id DESC);
CREATE INDEX IF NOT EXISTS stages_by_pipeline ON stages (pipeline_id, position);
CREATE INDEX IF NOT EXISTS pipelines_by_org ON pipelines (org_id, created_at, id);
CREATE INDEX IF NOT EXISTS leads_by_email ON leads (org_id, email);
CREATE INDEX IF NOT EXISTS leads_by_phone ON leads (org_id, phone);
CREATE INDEX IF NOT EXISTS lead_imports_by_status ON lead_imports (status, created_at, id);
CREATE TABLE IF NOT EXISTS lead_import_rows (
    import_id TEXT NOT NULL, row_index INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (import_id, row_index));
-- agents, runs, Stars
CREATE TABLE IF NOT EXISTS run_queue (
    run_id TEXT PRIMARY KEY, org_id TEXT NOT NULL, next_action INTEGER NOT NULL, next_step_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS run_queue_by_due ON run_queue (next_step_at, run_id);
CREATE INDEX IF NOT EXISTS agents_by_org ON agents (org_id, created_at, id);
CREATE INDEX IF NOT EXISTS runs_by_org ON runs (org_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS runs_by_agent ON runs (org_id, agent_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS stars_transactions_by_org ON stars_transactions (org_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS stars_transactions_by_agent ON stars_transactions (org_id, agent_id, created_at);
"""


class Database:
    """One SQLite connection shared by the server's threads, serialized by a lock."""

    def __init__(self, path: str) -> None:
        if path != ":memory:":
            _create_private(Path(path))
        self._connection = _connect(path)
        self._connection.row_factory = sqlite3.Row
        self.lock = FairLock()  # re-entrant, first come first served, awaitable by the event loop (inline.py, workers.py)
        if path != ":memory:":
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=NORMAL")
        self._connection.executescript(SCHEMA)
        self._depth = 0

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A transaction (nested calls join the outer one); rolls back on any exception."""
        with self.lock:
            outer = self._depth == 0
            if outer:
                self._connection.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self._connection
            except BaseException:
                self._depth -= 1
                if outer:
                    self._connection.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._connection.execute("COMMIT")

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads only, under the lock but without BEGIN/COMMIT (one connection: nothing else can write meanwhile)."""
        with self.lock:
            yield self._connection

    def close(self) -> None:
        with self.lock:
            self._connection.close()



def _connect(path: str) -> sqlite3.Connection:
    """A connection to the file `path`, or for ":memory:" to a private database in memory.

    The in-memory database lives in SQLite's memdb VFS when it has one (3.36+):
    a classic ":memory:" database's COMMIT grows with the database (3 us at 10,000
    leads, 40 us at 80,000, measured with SQLite 3.40), the memdb VFS's stays
    at about 5 us. Its name has no leading "/", so no other connection shares it.
    It holds at most 1 GiB (SQLite's default memdb limit); a file has no such limit.
    """
    if path == ":memory:":
        try:
            return sqlite3.connect("file:apollospace?vfs=memdb", uri=True, check_same_thread=False, isolation_level=None)
        except sqlite3.OperationalError:  # no memdb VFS in this SQLite
            pass
    return sqlite3.connect(path, check_same_thread=False, isolation_level=None)


def _create_private(path: Path) -> None:
    """Create the database file 0600 before SQLite opens it: it holds webhook secrets.

    SQLite gives its -wal and -shm files the mode of the database file, so they
    are 0600 too. Files left 0644 by an older server are tightened.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for member in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            if member.stat().st_mode & 0o077:
                member.chmod(0o600)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)
