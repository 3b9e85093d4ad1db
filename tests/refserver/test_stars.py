"""Stars over real HTTP: the balance by role, the ledger, monthly first, caps and their order."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from apollospace_refserver import stars_ledger
from apollospace_refserver.seed import ORGANIZATIONS, user_by_key

from .conftest import FAST, LiveServer, start_server
from .helpers import (
    NO_CAPS,
    agent_id,
    all_runs,
    balance,
    conforms,
    error_code,
    ledger,
    put_caps,
    settle,
    wait_billed,
    wait_terminal,
)

CAP_CODES = {
    "wallet": "stars_insufficient_balance",
    "organization_monthly_cap": "stars_cap_organization_monthly",
    "agent_daily_cap": "stars_cap_agent_daily",
    "user_agent_monthly_cap": "stars_cap_user_agent_monthly",
}


def invoke(client: httpx.Client, agent: str, prompt: str) -> httpx.Response:
    return client.post(f"/agents/{agent}/runs", json={"input": {"prompt": prompt}})


def run_to_end(client: httpx.Client, agent: str, prompt: str) -> dict[str, Any]:
    return wait_terminal(client, conforms(invoke(client, agent, prompt), "Run", 201)["id"])


def spend_outside_the_api(live: LiveServer, org_key: str, amount: int) -> None:
    """Test setup: spend Stars through the wallet's own debit (ledger lines included), as no API spends in bulk."""
    org = next(o for o in ORGANIZATIONS if o.key == org_key)
    with live.services.db.transaction() as conn:
        stars_ledger.debit(conn, org.id, amount, description="Test setup: Stars spent outside the API")


@pytest.fixture()
def fresh() -> Iterator[Callable[..., LiveServer]]:
    """Servers of their own for tests that empty the wallet or need slow runs."""
    servers: list[LiveServer] = []

    def make(**overrides: Any) -> LiveServer:
        servers.append(start_server(replace(FAST, **overrides)))
        return servers[-1]

    yield make
    for server in servers:
        server.stop()


def test_balance_shows_compartments_to_owners_and_admins_only_the_total_to_members_and_nothing_to_viewers(live: LiveServer) -> None:
    """Owners and admins see monthly + package = total for the current period, members only the total, viewers get 403."""
    with live.client() as owner, live.client("arthur") as admin, live.client("mia") as member, live.client("victor") as viewer:
        settle(owner)
        full = balance(owner)
        assert balance(admin) == full
        assert full["total"] == full["monthly"] + full["package"] and full["package"] == 20_000
        period_start, period_end = date.fromisoformat(full["period_start"]), date.fromisoformat(full["period_end"])
        assert period_start == datetime.now(UTC).date().replace(day=1)
        assert period_end >= period_start and (period_end + timedelta(days=1)).day == 1  # the last day, inclusive
        assert balance(member) == {**full, "monthly": None, "package": None}
        assert error_code(viewer.get("/stars/balance"), 403) == "insufficient_role"
        with live.client("bea", "globex") as globex_member:
            assert balance(globex_member)["total"] == 70_000


def test_the_ledger_explains_the_balance_line_by_line(live: LiveServer) -> None:
    """From the seed's monthly grant and package purchase on, each line's balance_after is the previous plus its amount, ending at the balance."""
    with live.client() as client:
        run = run_to_end(client, agent_id(client, "Scout"), "Research the fleet of Vela Logística.")
        settle(client)
        lines = ledger(client)[::-1]
        grant, purchase = lines[0], lines[1]
        assert (grant["type"], grant["amount"], grant["compartment"], grant["user_id"]) == ("monthly_grant", 50_000, "monthly", None)
        assert (purchase["type"], purchase["amount"], purchase["compartment"]) == ("package_purchase", 20_000, "package")
        assert purchase["user_id"] == user_by_key("olivia").id
        state = {"monthly": 0, "package": 0}
        for line in lines:
            state[line["compartment"]] += line["amount"]
            assert line["balance_after"] == {**state, "total": state["monthly"] + state["package"]}, line
        times = [line["created_at"] for line in lines]
        assert times == sorted(times) and len(set(times)) == len(times)
        now = balance(client)
        assert {k: now[k] for k in ("monthly", "package", "total")} == lines[-1]["balance_after"]
        assert now["updated_at"] == lines[-1]["created_at"]
        mine = [line for line in lines if line["run_id"] == run["id"]]
        assert all(line["user_id"] == run["invoked_by"] and line["agent_id"] == run["agent_id"] for line in mine)
        assert all(line["description"].startswith("Scout: ") for line in mine)


def test_ledger_filters_pages_and_visibility(live: LiveServer) -> None:
    """listStarsTransactions filters by type, agent and time, pages newest first, and is for owners and admins only."""
    with live.client("arthur") as client, live.client("mia") as member, live.client("victor") as viewer:
        marcus = agent_id(client, "Marcus")
        run_to_end(client, marcus, "Draft a WhatsApp follow-up for Proposal sent.")
        everything = ledger(client)
        one_by_one, cursor = [], None
        while True:
            page = conforms(client.get("/stars/transactions", params={"limit": 1, **({"cursor": cursor} if cursor else {})}), "StarsTransactionPage", 200)
            one_by_one += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert one_by_one == everything
        assert [(x["created_at"], x["id"]) for x in everything] == sorted(((x["created_at"], x["id"]) for x in everything), reverse=True)
        assert [x["type"] for x in ledger(client, type="package_purchase")] == ["package_purchase"]
        debits = ledger(client, type="debit", agent_id=marcus)
        assert debits and all(x["agent_id"] == marcus and x["type"] == "debit" for x in debits)
        seed_time = ledger(client, type="monthly_grant")[0]["created_at"]
        assert ledger(client, created_before=seed_time) == []
        minus_3 = datetime.fromisoformat(seed_time.replace("Z", "+00:00")).astimezone(timezone(-timedelta(hours=3)))
        assert len(ledger(client, created_after=minus_3.isoformat())) == len(everything)  # the same instant, inclusive
        assert error_code(member.get("/stars/transactions"), 403) == "insufficient_role"
        assert error_code(viewer.get("/stars/transactions"), 403) == "insufficient_role"


def test_debits_draw_from_monthly_first_then_from_package(fresh: Callable[..., LiveServer]) -> None:
    """A step costing more than what is left in monthly writes a monthly line then a package line; later steps draw from package."""
    live = fresh()
    spend_outside_the_api(live, "acme", 49_999)  # leaves 1 Star in monthly
    with live.client() as client:
        assert {k: balance(client)[k] for k in ("monthly", "package")} == {"monthly": 1, "package": 20_000}
        run = run_to_end(client, agent_id(client, "Scout"), "Enrich Vela Logística with its fleet size.")
        lines = [line for line in ledger(client, type="debit") if line["run_id"] == run["id"]][::-1]
        first_cost = conforms(client.get(f"/runs/{run['id']}/trace"), "RunTrace", 200)["steps"][1]["stars_cost"]
        assert (lines[0]["compartment"], lines[0]["amount"]) == ("monthly", -1)
        assert (lines[1]["compartment"], lines[1]["amount"]) == ("package", -(first_cost - 1))
        assert lines[0]["created_at"] < lines[1]["created_at"]
        assert lines[0]["balance_after"] == {"monthly": 0, "package": 20_000, "total": 20_000}
        assert all(line["compartment"] == "package" for line in lines[1:])
        assert -sum(line["amount"] for line in lines) == run["stars_cost"]
        assert balance(client) | {"updated_at": None, "period_start": None, "period_end": None} == {
            "monthly": 0, "package": 20_000 - (run["stars_cost"] - 1), "total": 20_000 - (run["stars_cost"] - 1),
            "updated_at": None, "period_start": None, "period_end": None,
        }


def test_each_check_blocks_an_invocation_with_its_own_code_creating_no_run(live: LiveServer) -> None:
    """Each cap alone turns invokeAgent into a 409 naming it, with no run created and nothing debited."""
    with live.client() as owner, live.client("arthur") as admin:
        scout = agent_id(owner, "Scout")
        settle(owner)
        runs, before = len(all_runs(owner)), balance(owner)
        olivia = user_by_key("olivia").id
        cases = {
            "organization_monthly_cap": {"organization_monthly": 0},
            "agent_daily_cap": {"agents": [{"agent_id": scout, "daily": 0}]},
            "user_agent_monthly_cap": {"user_agent_monthly": [{"user_id": olivia, "agent_id": scout, "monthly": 0}]},
        }
        try:
            for cap, caps in cases.items():
                put_caps(admin, **caps)
                assert error_code(invoke(owner, scout, f"Blocked by {cap}."), 409) == CAP_CODES[cap]
            assert len(all_runs(owner)) == runs and balance(owner) == before
            run_to_end(admin, scout, "Arthur has no cap of his own on Scout.")  # the user cap is per user
        finally:
            put_caps(admin)


def test_when_two_caps_would_fire_the_earlier_in_the_order_names_itself(live: LiveServer) -> None:
    """With two caps reached at once, the code is the first in the order organization monthly, agent daily, user on agent."""
    with live.client() as owner:
        scout, olivia = agent_id(owner, "Scout"), user_by_key("olivia").id
        agent_zero = {"agents": [{"agent_id": scout, "daily": 0}]}
        user_zero = {"user_agent_monthly": [{"user_id": olivia, "agent_id": scout, "monthly": 0}]}
        try:
            for caps, code in (
                ({"organization_monthly": 0, **agent_zero, **user_zero}, "stars_cap_organization_monthly"),
                ({"organization_monthly": 0, **user_zero}, "stars_cap_organization_monthly"),
                ({**agent_zero, **user_zero}, "stars_cap_agent_daily"),
            ):
                put_caps(owner, **caps)
                assert error_code(invoke(owner, scout, "Two caps at once."), 409) == code
        finally:
            put_caps(owner)


def test_an_empty_wallet_comes_before_every_cap(fresh: Callable[..., LiveServer]) -> None:
    """A wallet that cannot pay the first step blocks with stars_insufficient_balance, even when every cap would fire too."""
    live = fresh()
    with live.client() as owner:
        scout, olivia = agent_id(owner, "Scout"), user_by_key("olivia").id
        spend_outside_the_api(live, "acme", 69_998)  # 2 Stars left: less than any step costs
        assert error_code(invoke(owner, scout, "Not enough Stars for a step."), 409) == "stars_insufficient_balance"
        spend_outside_the_api(live, "acme", 2)
        assert balance(owner)["total"] == 0
        put_caps(owner, organization_monthly=0, agents=[{"agent_id": scout, "daily": 0}],
                 user_agent_monthly=[{"user_id": olivia, "agent_id": scout, "monthly": 0}])
        assert error_code(invoke(owner, scout, "Everything fires."), 409) == "stars_insufficient_balance"
        assert all_runs(owner) == []


def test_a_cap_reached_during_a_run_blocks_it_at_the_next_budget_check(live: LiveServer) -> None:
    """A run whose second billable step would pass the agent's daily cap ends blocked by it, having paid only the first step."""
    with live.client() as owner:
        athena = agent_id(owner, "Athena")
        prompt = "Plan the week for the logistics team."
        costs = [s["stars_cost"] for s in conforms(owner.get(f"/runs/{run_to_end(owner, athena, prompt)['id']}/trace"), "RunTrace", 200)["steps"] if s["stars_cost"]]
        settle(owner)
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0).isoformat()
        spent_today = -sum(x["amount"] for x in ledger(owner, type="debit", agent_id=athena, created_after=midnight))
        try:
            put_caps(owner, agents=[{"agent_id": athena, "daily": spent_today + costs[0]}])
            run = run_to_end(owner, athena, prompt)
            assert (run["status"], run["blocked_by"], run["stars_cost"], run["output"]) == ("blocked", "agent_daily_cap", costs[0], None)
            steps = conforms(owner.get(f"/runs/{run['id']}/trace"), "RunTrace", 200)["steps"]
            assert [s["type"] for s in steps] == ["budget_check", steps[1]["type"], "budget_check"]
            assert steps[-1]["status"] == "blocked" and steps[-1]["stars_cost"] == 0
            assert steps[-1]["output"] == {"allowed": False, "blocked_by": "agent_daily_cap"}
            assert steps[-1]["input"] == {"estimated_stars": costs[1]}
            lines = [x for x in ledger(owner, type="debit", agent_id=athena) if x["run_id"] == run["id"]]
            assert -sum(x["amount"] for x in lines) == costs[0]
            assert error_code(invoke(owner, athena, prompt), 409) == "stars_cap_agent_daily"
        finally:
            put_caps(owner)


def test_new_caps_apply_to_runs_already_live(fresh: Callable[..., LiveServer]) -> None:
    """Caps changed while a run is live apply at its next budget check: the run ends blocked by the organization's monthly cap."""
    live = fresh(run_step_seconds=0.25)
    with live.client() as owner:
        run = conforms(invoke(owner, agent_id(owner, "Athena"), "Delegate ten research tasks."), "Run", 201)
        wait_billed(owner, run["id"])
        put_caps(owner, organization_monthly=0)
        final = wait_terminal(owner, run["id"])
        assert (final["status"], final["blocked_by"]) == ("blocked", "organization_monthly_cap")
        steps = conforms(owner.get(f"/runs/{run['id']}/trace"), "RunTrace", 200)["steps"]
        assert steps[-1]["type"] == "budget_check" and steps[-1]["status"] == "blocked"
        assert sum(s["stars_cost"] for s in steps) == final["stars_cost"] == 70_000 - balance(owner)["total"]


def test_caps_are_read_and_replaced_by_owners_and_admins_with_validation(live: LiveServer) -> None:
    """getStarsCaps/updateStarsCaps: fixed check order, whole replacement, 404/400 for foreign agents and non-members, 403 for others."""
    with live.client("arthur") as admin, live.client("mia") as member, live.client("victor") as viewer, live.client("bruno", "globex") as globex:
        scout, foreign = agent_id(admin, "Scout"), agent_id(globex, "Scout")
        initial = conforms(admin.get("/stars/caps"), "StarsCaps", 200)
        assert initial["check_order"] == ["wallet", "organization_monthly_cap", "agent_daily_cap", "user_agent_monthly_cap"]
        mia = user_by_key("mia").id
        wanted = {"organization_monthly": 20_000, "agent_daily_default": 500, "agents": [{"agent_id": scout.upper(), "daily": 800}],
                  "user_agent_monthly": [{"user_id": mia, "agent_id": scout, "monthly": 2000}]}
        try:
            updated = conforms(admin.put("/stars/caps", json=wanted), "StarsCaps", 200)
            assert updated["agents"] == [{"agent_id": scout, "daily": 800}] and updated["updated_at"] > initial["updated_at"]
            assert {k: updated[k] for k in ("organization_monthly", "agent_daily_default", "user_agent_monthly")} == {
                k: wanted[k] for k in ("organization_monthly", "agent_daily_default", "user_agent_monthly")
            }
            assert conforms(admin.get("/stars/caps"), "StarsCaps", 200) == updated
            dup_agent = {**wanted, "agents": [{"agent_id": scout, "daily": 1}, {"agent_id": scout, "daily": 2}]}
            dup_pair = {**wanted, "user_agent_monthly": wanted["user_agent_monthly"] * 2}
            for body, status, code in (
                (dup_agent, 400, "duplicate_cap_entry"),
                (dup_pair, 400, "duplicate_cap_entry"),
                ({**wanted, "check_order": initial["check_order"]}, 400, "validation_failed"),
                ({**wanted, "agent_daily_default": -1}, 400, "validation_failed"),
                ({**wanted, "agents": [{"agent_id": foreign, "daily": 1}]}, 404, "agent_not_found"),
                ({**wanted, "agents": [{"agent_id": str(uuid.uuid4()), "daily": 1}]}, 404, "agent_not_found"),
                ({**wanted, "user_agent_monthly": [{"user_id": user_by_key("bruno").id, "agent_id": scout, "monthly": 1}]}, 400, "user_not_member"),
            ):
                assert error_code(admin.put("/stars/caps", json=body), status) == code
            assert conforms(admin.get("/stars/caps"), "StarsCaps", 200) == updated
            for client in (member, viewer):
                assert error_code(client.get("/stars/caps"), 403) == "insufficient_role"
                assert error_code(client.put("/stars/caps", json=NO_CAPS), 403) == "insufficient_role"
            assert conforms(globex.get("/stars/caps"), "StarsCaps", 200)["organization_monthly"] is None
        finally:
            put_caps(admin)


def test_an_ended_period_expires_monthly_and_grants_it_again(fresh: Callable[..., LiveServer]) -> None:
    """When the period has ended, the leftover monthly Stars expire and the plan's grant starts the current period, both in the ledger."""
    live = fresh()
    spend_outside_the_api(live, "acme", 300)
    org = next(o for o in ORGANIZATIONS if o.key == "acme")
    with live.services.db.transaction() as conn:  # test setup: pretend the period ended last month
        conn.execute("UPDATE wallets SET period_start = '2020-01-01', period_end = '2020-02-01' WHERE org_id = ?", (org.id,))
    with live.client() as owner:
        now = balance(owner)
        assert (now["monthly"], now["package"], now["period_start"]) == (50_000, 20_000, datetime.now(UTC).date().replace(day=1).isoformat())
        grant, expiry = ledger(owner)[:2]
        assert (expiry["type"], expiry["amount"], expiry["compartment"]) == ("expiry", -49_700, "monthly")
        assert expiry["balance_after"] == {"monthly": 0, "package": 20_000, "total": 20_000}
        assert (grant["type"], grant["amount"], grant["balance_after"]["monthly"]) == ("monthly_grant", 50_000, 50_000)
        assert balance(owner) == now  # rolled over once
