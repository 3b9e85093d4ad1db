"""Breaks /req/organization/list-isolation: listStarsTransactions forgets the organization, so every organization's ledger lines are listed.

The ledger query is built from the optional filters (type, agent) and the
tenant condition was never added: one wallet's owner sees what every other
organization spent, on which agents.
"""

from __future__ import annotations

from typing import Any

from apollospace_refserver.handlers import HANDLERS, Call, Result
from apollospace_refserver.operations.common import filtered_page
from apollospace_refserver.stars_ledger import render_line, wallet


def _list_stars_transactions(call: Call) -> Result:
    wallet(call.conn, call.org_id)  # a period that ended writes its expiry and grant lines first
    where: list[str] = []
    args: list[Any] = []
    for name in ("type", "agent_id"):
        if call.query.get(name):
            where.append(f"{name} = ?")
            args.append(call.query[name].lower() if name == "agent_id" else call.query[name])
    return Result(filtered_page(call, "stars_transactions", where, args, render_line))


def patch() -> None:
    HANDLERS["listStarsTransactions"] = _list_stars_transactions
