"""The Stars wallet: compartments, caps, and debits written with their ledger lines.

Every change to a wallet happens here, inside the caller's transaction, and
writes its `stars_transactions` line(s) in that same transaction, so the
ledger always explains the balance: walking it oldest first, each line's
`balance_after` is the previous one plus its `amount`.

Debits draw from `monthly` first; a debit larger than what is left in
`monthly` writes two lines, the monthly one first. Ledger timestamps are
strictly increasing per organization, so "newest first" is a total order.

Caps are checked in the fixed order of `CHECK_ORDER` for the cost of the
step about to be paid; the first that fires blocks it. A check fires when the
step would take the wallet below zero or the spending past the cap.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from apollospace_refserver.db import dumps, loads
from apollospace_refserver.errors import ApiError
from apollospace_refserver.ids import new_id
from apollospace_refserver.timeutil import iso, now, now_iso, parse_instant

CHECK_ORDER = ("wallet", "organization_monthly_cap", "agent_daily_cap", "user_agent_monthly_cap")
CAP_ERRORS = {
    "wallet": ("stars_insufficient_balance", "The Stars balance does not cover the next step of this run."),
    "organization_monthly_cap": ("stars_cap_organization_monthly", "The organization's monthly Stars cap is reached."),
    "agent_daily_cap": ("stars_cap_agent_daily", "This agent's daily Stars cap is reached."),
    "user_agent_monthly_cap": ("stars_cap_user_agent_monthly", "Your monthly Stars cap on this agent is reached."),
}
DEFAULT_CAPS: dict[str, Any] = {"organization_monthly": None, "agent_daily_default": 5_000, "agents": [], "user_agent_monthly": []}


@dataclass
class Wallet:
    org_id: str
    monthly: int
    package: int
    period_start: date
    period_end: date  # exclusive: the first day of the next period
    updated_at: str

    @property
    def total(self) -> int:
        return self.monthly + self.package

    def after(self) -> dict[str, int]:
        return {"monthly": self.monthly, "package": self.package, "total": self.total}


# --- the wallet -------------------------------------------------------------------------


def _month_bounds(day: date) -> tuple[date, date]:
    start = day.replace(day=1)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end


def _read(conn: sqlite3.Connection, org_id: str) -> Wallet:
    row = conn.execute("SELECT * FROM wallets WHERE org_id = ?", (org_id,)).fetchone()
    if row is None:  # an organization created without a wallet has an empty one
        start, end = _month_bounds(now().date())
        stamp = now_iso()
        conn.execute(
            "INSERT INTO wallets (org_id, monthly, package, period_start, period_end, updated_at) VALUES (?, 0, 0, ?, ?, ?)",
            (org_id, start.isoformat(), end.isoformat(), stamp),
        )
        return Wallet(org_id, 0, 0, start, end, stamp)
    return Wallet(
        org_id, int(row["monthly"]), int(row["package"]), date.fromisoformat(row["period_start"]),
        date.fromisoformat(row["period_end"]), row["updated_at"],
    )


def _store(conn: sqlite3.Connection, wallet: Wallet) -> None:
    conn.execute(
        "UPDATE wallets SET monthly = ?, package = ?, period_start = ?, period_end = ?, updated_at = ? WHERE org_id = ?",
        (wallet.monthly, wallet.package, wallet.period_start.isoformat(), wallet.period_end.isoformat(), wallet.updated_at, wallet.org_id),
    )


def wallet(conn: sqlite3.Connection, org_id: str) -> Wallet:
    """The organization's wallet as of now; a period that has ended is rolled over first.

    Rolling over expires what is left of `monthly` (an `expiry` line) and grants
    the plan's Stars again (a `monthly_grant` line of the last grant's amount).
    """
    current = _read(conn, org_id)
    today = now().date()
    if today < current.period_end:
        return current
    ended = f"{current.period_start.isoformat()} to {(current.period_end - timedelta(days=1)).isoformat()}"
    if current.monthly > 0:
        expired = current.monthly
        current.monthly = 0
        _line(conn, current, "expiry", -expired, "monthly", description=f"Monthly Stars left at the end of the period {ended} expired")
    current.period_start, current.period_end = _month_bounds(today)
    last_grant = conn.execute(
        "SELECT doc FROM stars_transactions WHERE org_id = ? AND type = 'monthly_grant' ORDER BY created_at DESC, id DESC LIMIT 1", (org_id,)
    ).fetchone()
    grant = int(loads(last_grant["doc"])["amount"]) if last_grant else 0
    if grant > 0:
        current.monthly = grant
        _line(conn, current, "monthly_grant", grant, "monthly", description=f"Monthly Stars for the period starting {current.period_start.isoformat()}")
    last = conn.execute("SELECT MAX(created_at) AS last FROM stars_transactions WHERE org_id = ?", (org_id,)).fetchone()["last"]
    current.updated_at = max(last or "", current.updated_at)
    _store(conn, current)
    return current


def render_balance(current: Wallet, *, compartments: bool) -> dict[str, Any]:
    """`StarsBalance`; without `compartments` (members) only the total is shown."""
    return {
        "monthly": current.monthly if compartments else None,
        "package": current.package if compartments else None,
        "total": current.total,
        "period_start": current.period_start.isoformat(),
        "period_end": (current.period_end - timedelta(days=1)).isoformat(),  # the last day, inclusive
        "updated_at": current.updated_at,
    }


# --- the ledger -------------------------------------------------------------------------


def _next_stamp(conn: sqlite3.Connection, org_id: str) -> str:
    """Now, or one microsecond after the organization's newest line if that is not earlier."""
    stamp = now_iso()
    last = conn.execute("SELECT MAX(created_at) AS last FROM stars_transactions WHERE org_id = ?", (org_id,)).fetchone()["last"]
    if last is not None and stamp <= last:
        stamp = iso(parse_instant(last) + timedelta(microseconds=1))
    return stamp


def _line(
    conn: sqlite3.Connection,
    current: Wallet,
    kind: str,
    amount: int,
    compartment: str,
    *,
    description: str,
    agent_id: str | None = None,
    run_id: str | None = None,
    user_id: str | None = None,
    created_at: str | None = None,
) -> dict[str, Any]:
    """Insert one ledger line; `current` already holds the balance after it."""
    doc = {
        "id": new_id(),
        "type": kind,
        "amount": amount,
        "compartment": compartment,
        "balance_after": current.after(),
        "agent_id": agent_id,
        "run_id": run_id,
        "user_id": user_id,
        "description": description[:500],
        "created_at": created_at or _next_stamp(conn, current.org_id),
    }
    conn.execute(
        "INSERT INTO stars_transactions (id, org_id, type, agent_id, run_id, user_id, doc, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (doc["id"], current.org_id, kind, agent_id, run_id, user_id, dumps(doc), doc["created_at"]),
    )
    return doc


def debit(
    conn: sqlite3.Connection,
    org_id: str,
    amount: int,
    *,
    description: str,
    agent_id: str | None = None,
    run_id: str | None = None,
    user_id: str | None = None,
) -> list[dict[str, Any]]:
    """Take `amount` Stars, monthly first, writing one `debit` line per compartment touched.

    Raises 409 `stars_insufficient_balance` (and changes nothing) when the
    wallet does not cover it; callers check the caps first.
    """
    if amount <= 0:
        raise ValueError("a debit is a positive number of Stars")
    current = wallet(conn, org_id)
    if current.total < amount:
        raise blocked_error("wallet")
    lines = []
    from_monthly = min(current.monthly, amount)
    for compartment, part in (("monthly", from_monthly), ("package", amount - from_monthly)):
        if part == 0:
            continue
        if compartment == "monthly":
            current.monthly -= part
        else:
            current.package -= part
        lines.append(_line(conn, current, "debit", -part, compartment, description=description, agent_id=agent_id, run_id=run_id, user_id=user_id))
    current.updated_at = lines[-1]["created_at"]
    _store(conn, current)
    return lines


def record_seed_grants(conn: sqlite3.Connection, org_id: str, owner_id: str, monthly: int, package: int, stamp: str) -> None:
    """The ledger lines that explain a freshly seeded wallet: the monthly grant, then the package bought."""
    current = _read(conn, org_id)
    current.monthly, current.package = monthly, 0
    _line(conn, current, "monthly_grant", monthly, "monthly", created_at=stamp,
          description=f"Monthly Stars for the period starting {current.period_start.isoformat()}")
    current.package = package
    bought = iso(parse_instant(stamp) + timedelta(microseconds=1))
    _line(conn, current, "package_purchase", package, "package", user_id=owner_id, created_at=bought,
          description=f"Package of {package:,} Stars")


def render_line(row: sqlite3.Row) -> dict[str, Any]:
    return dict(loads(row["doc"]))


# --- caps -------------------------------------------------------------------------------


def caps_row(conn: sqlite3.Connection, org_id: str) -> tuple[dict[str, Any], str]:
    """The stored caps (`StarsCapsUpdate` shape) and when they last changed."""
    row = conn.execute("SELECT doc, updated_at FROM stars_caps WHERE org_id = ?", (org_id,)).fetchone()
    if row is None:
        stamp = now_iso()
        conn.execute("INSERT INTO stars_caps (org_id, doc, updated_at) VALUES (?, ?, ?)", (org_id, dumps(DEFAULT_CAPS), stamp))
        return dict(DEFAULT_CAPS), stamp
    return loads(row["doc"]), row["updated_at"]


def render_caps(doc: dict[str, Any], updated_at: str) -> dict[str, Any]:
    return {
        "organization_monthly": doc["organization_monthly"],
        "agent_daily_default": doc["agent_daily_default"],
        "agents": [{"agent_id": e["agent_id"], "daily": e["daily"]} for e in doc["agents"]],
        "user_agent_monthly": [{"user_id": e["user_id"], "agent_id": e["agent_id"], "monthly": e["monthly"]} for e in doc["user_agent_monthly"]],
        "check_order": list(CHECK_ORDER),
        "updated_at": updated_at,
    }


def agent_daily_cap(doc: dict[str, Any], agent_id: str) -> int | None:
    """The daily cap in effect for the agent: its own entry (null lifts it) or the default."""
    for entry in doc["agents"]:
        if entry["agent_id"] == agent_id:
            return entry["daily"]
    return int(doc["agent_daily_default"])


def user_agent_cap(doc: dict[str, Any], user_id: str, agent_id: str) -> int | None:
    for entry in doc["user_agent_monthly"]:
        if entry["user_id"] == user_id and entry["agent_id"] == agent_id:
            return int(entry["monthly"])
    return None


def spent(conn: sqlite3.Connection, org_id: str, since: str, *, agent_id: str | None = None, user_id: str | None = None) -> int:
    """Stars spent since `since` (debits net of refunds), optionally by one agent's runs and one user."""
    sql = "SELECT COALESCE(-SUM(json_extract(doc, '$.amount')), 0) AS spent FROM stars_transactions WHERE org_id = ? AND type IN ('debit', 'refund') AND created_at >= ?"
    args: list[Any] = [org_id, since]
    if agent_id is not None:
        sql += " AND agent_id = ?"
        args.append(agent_id)
    if user_id is not None:
        sql += " AND user_id = ?"
        args.append(user_id)
    return int(conn.execute(sql, args).fetchone()["spent"])


def _midnight(day: date) -> str:
    return iso(datetime(day.year, day.month, day.day, tzinfo=UTC))


def first_blocking_cap(conn: sqlite3.Connection, org_id: str, agent_id: str, user_id: str, cost: int) -> str | None:
    """The first check of `CHECK_ORDER` that a step costing `cost` Stars would fail, or None."""
    current = wallet(conn, org_id)
    if current.total < max(cost, 1):
        return "wallet"
    doc, _ = caps_row(conn, org_id)
    period = _midnight(current.period_start)
    organization = doc["organization_monthly"]
    if organization is not None and spent(conn, org_id, period) + cost > organization:
        return "organization_monthly_cap"
    daily = agent_daily_cap(doc, agent_id)
    if daily is not None and spent(conn, org_id, _midnight(now().date()), agent_id=agent_id) + cost > daily:
        return "agent_daily_cap"
    personal = user_agent_cap(doc, user_id, agent_id)
    if personal is not None and spent(conn, org_id, period, agent_id=agent_id, user_id=user_id) + cost > personal:
        return "user_agent_monthly_cap"
    return None


def blocked_error(cap: str) -> ApiError:
    """The 409 of a call blocked before it started, its code naming the check that fired."""
    code, message = CAP_ERRORS[cap]
    return ApiError(409, code, message)
