"""Breaks /req/agents/trace: the budget-check steps carry the estimated cost in stars_cost, so the trace adds up to more than the run cost.

The partner copies the step's estimate into `stars_cost` on the budget-check
step "for visibility", and every billable action is then counted twice in
the trace while the run (and the ledger) count it once.
"""

from __future__ import annotations

from typing import Any

from apollospace_refserver import agent_runner

_original = agent_runner._step


def _step(index: int, action_type: str, name: str, step_input: dict[str, Any], output: dict[str, Any] | None,
          stars_cost: int, status: str, started_at: str) -> dict[str, Any]:
    if action_type == "budget_check":
        stars_cost = int(step_input["estimated_stars"])
    return _original(index, action_type, name, step_input, output, stars_cost, status, started_at)


def patch() -> None:
    agent_runner._step = _step
