"""Breaks /req/stars/cap-order: the agent daily cap is checked before the organization monthly cap.

The agent service checks its own daily cap before handing the call to the
billing service, which checks the wallet and the organization's cap: each
check is right, but when both fire the call names the wrong one (while
getStarsCaps still shows the documented check_order).
"""

from __future__ import annotations

import sqlite3

from apollospace_refserver import agent_runner, stars_ledger

_original = stars_ledger.first_blocking_cap


def _first_blocking_cap(conn: sqlite3.Connection, org_id: str, agent_id: str, user_id: str, cost: int) -> str | None:
    found = _original(conn, org_id, agent_id, user_id, cost)
    if found == "organization_monthly_cap":  # the agent daily cap would have been looked at first
        doc, _ = stars_ledger.caps_row(conn, org_id)
        daily = stars_ledger.agent_daily_cap(doc, agent_id)
        today = stars_ledger._midnight(stars_ledger.now().date())
        if daily is not None and stars_ledger.spent(conn, org_id, today, agent_id=agent_id) + cost > daily:
            return "agent_daily_cap"
    return found


def patch() -> None:
    stars_ledger.first_blocking_cap = _first_blocking_cap
    agent_runner.first_blocking_cap = _first_blocking_cap
