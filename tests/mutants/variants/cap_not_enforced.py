"""Breaks /req/stars/blocked-names-cap: the agent daily cap is stored and shown but never checked before a run spends.

The partner added the per-agent daily cap to the settings screen and the
caps API, but the budget check in the runner still knows only the wallet,
the organization cap and the per-user cap. Two requirements inevitably break:
a call the agent's daily cap alone should block goes through (no error names
the cap: blocked-names-cap), and with the agent's daily cap and the caller's
cap both at 0, the later user cap blocks instead (cap-order).
"""

from __future__ import annotations

from typing import Any

from apollospace_refserver import stars_ledger


def _never_capped(doc: dict[str, Any], agent_id: str) -> int | None:
    return None


def patch() -> None:
    # Only the budget check reads stars_ledger.agent_daily_cap; the caps API and listAgents keep their own import.
    stars_ledger.agent_daily_cap = _never_capped
