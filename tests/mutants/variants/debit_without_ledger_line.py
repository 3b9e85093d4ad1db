"""Breaks /req/stars/debit-with-ledger: agent runs take Stars from the wallet but write no ledger line.

The runner decrements the wallet directly (an `UPDATE wallets SET monthly =
monthly - ?`) instead of going through the ledger API, which the partner uses
only for grants and purchases: the balance moves and nothing explains it.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from apollospace_refserver import agent_runner, stars_ledger
from apollospace_refserver.timeutil import now_iso


def _debit(conn: sqlite3.Connection, org_id: str, amount: int, **_ignored: Any) -> list[dict[str, Any]]:
    current = stars_ledger.wallet(conn, org_id)
    if current.total < amount:
        raise stars_ledger.blocked_error("wallet")
    from_monthly = min(current.monthly, amount)
    current.monthly -= from_monthly
    current.package -= amount - from_monthly
    current.updated_at = now_iso()
    stars_ledger._store(conn, current)  # the wallet only: no stars_transactions line
    return []


def patch() -> None:
    agent_runner.debit = _debit
