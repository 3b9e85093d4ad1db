"""Breaks /req/stars/monthly-first: debits draw from the package compartment first, then from monthly.

Loops over compartments in the order they are stored (or alphabetically:
"monthly" and "package" come out reversed in some schemas) are an easy way
to spend the Stars the customer paid for before the free monthly ones that
expire at the end of the period.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from apollospace_refserver import agent_runner, stars_ledger


def _debit(conn: sqlite3.Connection, org_id: str, amount: int, *, description: str, agent_id: str | None = None,
           run_id: str | None = None, user_id: str | None = None) -> list[dict[str, Any]]:
    current = stars_ledger.wallet(conn, org_id)
    if current.total < amount:
        raise stars_ledger.blocked_error("wallet")
    lines = []
    from_package = min(current.package, amount)
    for compartment, part in (("package", from_package), ("monthly", amount - from_package)):
        if part:
            setattr(current, compartment, getattr(current, compartment) - part)
            lines.append(stars_ledger._line(conn, current, "debit", -part, compartment, description=description,
                                            agent_id=agent_id, run_id=run_id, user_id=user_id))
    current.updated_at = lines[-1]["created_at"]
    stars_ledger._store(conn, current)
    return lines


def patch() -> None:
    agent_runner.debit = _debit
