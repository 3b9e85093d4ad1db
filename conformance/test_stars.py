"""The Stars wallet: compartments, debits with their ledger lines, monthly first, caps and their order.

The debit tests read the wallet and the ledger around the one shared agent run
(`agent_run`); the cap tests change the caps so that a cap fires at once (a
blocked invocation creates no run and spends nothing), and always put back
the caps they found.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from apollospace_conformance.checks import violation
from apollospace_conformance.http import Exchange, KitClient
from apollospace_conformance.session import KitSession

from ._requests import identity
from .conftest import AgentRun, body_of, idempotency_key

CAP_CODES = {
    "wallet": "stars_insufficient_balance",
    "organization_monthly_cap": "stars_cap_organization_monthly",
    "agent_daily_cap": "stars_cap_agent_daily",
    "user_agent_monthly_cap": "stars_cap_user_agent_monthly",
}
CAPS_FIELDS = ("organization_monthly", "agent_daily_default", "agents", "user_agent_monthly")


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@pytest.mark.requirement("/req/stars/balance-compartments")
def test_balance_reports_compartments_and_total(api: KitClient) -> None:
    """Requirement: /req/stars/balance-compartments (total = monthly + package).
    Test purpose: the owner's view of the wallet shows both compartments and their sum.
    Test method: 1. read getStarsBalance as the organization's owner 2. expect monthly, package and total as
    non-negative integers 3. check total == monthly + package.
    """
    requirement = "/req/stars/balance-compartments"
    balance = api.get("/stars/balance")
    body = body_of(balance)
    if balance.status != 200:
        raise violation(requirement, "200 with the balance for an owner", balance.describe(), balance)
    for name in ("monthly", "package", "total"):
        if not _is_count(body.get(name)):
            raise violation(requirement, f"{name} a non-negative integer for an owner", f"{name} = {body.get(name)!r}", balance)
    if body["total"] != body["monthly"] + body["package"]:
        raise violation(requirement, f"total = monthly + package = {body['monthly'] + body['package']}", f"total = {body['total']}", balance)


def _debit_lines(api: KitClient, run: dict[str, Any], requirement: str) -> tuple[list[dict[str, Any]], Exchange]:
    lines: list[dict[str, Any]] = []
    cursor = None
    page: Exchange | None = None
    for _ in range(20):
        params = {"type": "debit", "agent_id": run["agent_id"], "created_after": run["created_at"], "limit": 100, **({"cursor": cursor} if cursor else {})}
        page = api.get("/stars/transactions", params=params)
        body = body_of(page)
        if page.status != 200 or not isinstance(body.get("items"), list):
            raise violation(requirement, "200 with a page of the ledger", page.describe(), page)
        for line in body["items"]:
            if line.get("type") != "debit" or line.get("agent_id") != run["agent_id"]:
                raise violation(requirement, f"only debit lines of agent {run['agent_id']} (type and agent_id filters)", repr(line)[:300], page)
            if line.get("run_id") == run["id"]:
                lines.append(line)
        cursor = body.get("next_cursor")
        if not cursor:
            break
    assert page is not None
    return list(reversed(lines)), page


@pytest.mark.requirement("/req/stars/debit-with-ledger")
def test_run_cost_matches_ledger_and_balance(api: KitClient, agent_run: AgentRun) -> None:
    """Requirement: /req/stars/debit-with-ledger (a run's cost equals the sum of its debit lines and the balance decrease).
    Test purpose: every Star a run spends is one ledger line, and the wallet moves by exactly the run's cost.
    Test method: 1. read the balance and the newest ledger line 2. invoke an agent and follow the run to its end
    3. list the ledger's debit lines filtered by the agent and the run's creation time 4. check the run's lines are
    debits (negative amounts) that add up to -stars_cost 5. check the balance decreased by the lines written since
    the marker, which are the run's own when nothing else spent meanwhile, and each line's balance_after chains.
    """
    requirement = "/req/stars/debit-with-ledger"
    run = agent_run.require_terminal()
    cost = run.get("stars_cost")
    if not cost:
        pytest.skip(f"the shared run ended {run.get('status')} having spent no Stars; no debit to examine")
    lines, page = _debit_lines(api, run, requirement)
    if not lines:
        raise violation(requirement, f"debit lines of run {run['id']} (stars_cost {cost}) in the ledger", "none", page)
    for line in lines:
        if not isinstance(line.get("amount"), int) or line["amount"] >= 0:
            raise violation(requirement, "a negative amount on every debit line", repr(line)[:300], page)
    spent = -sum(line["amount"] for line in lines)
    if spent != cost:
        raise violation(requirement, f"the run's debit lines adding up to -{cost} (its stars_cost)", f"they add up to -{spent} over {len(lines)} line(s)", page)
    before, after = body_of(agent_run.balance_before), body_of(agent_run.balance_after)
    if not (_is_count(before.get("total")) and _is_count(after.get("total"))):
        pytest.skip("the balance could not be read around the run")
    since = agent_run.lines_since
    if since is None:
        pytest.skip("the ledger could not be walked back to the line that was newest before the run")
    decrease = before["total"] - after["total"]
    explained = -sum(int(line.get("amount") or 0) for line in since)
    reproduction = agent_run.balance_after
    if decrease != explained:
        raise violation(requirement, f"a balance decrease equal to the ledger lines written meanwhile ({explained})",
                        f"total {before['total']} -> {after['total']} (decrease {decrease}) with {len(since)} new line(s)", reproduction)
    if all(line.get("run_id") == run["id"] for line in since) and decrease != cost:
        raise violation(requirement, f"a balance decrease of {cost}, the run's stars_cost", f"decrease {decrease}", reproduction)
    running = dict(monthly=before.get("monthly"), package=before.get("package"))
    if all(_is_count(value) for value in running.values()):
        for line in reversed(since):  # oldest first
            compartment = line.get("compartment")
            if compartment in running:
                running[compartment] += int(line.get("amount") or 0)
            shown = line.get("balance_after") or {}
            expected = {**running, "total": running["monthly"] + running["package"]}
            if {name: shown.get(name) for name in expected} != expected:
                raise violation(requirement, f"balance_after {expected} after the line (the ledger explains the balance)", repr(line)[:400], reproduction)


@pytest.mark.requirement("/req/stars/monthly-first")
def test_debits_draw_from_monthly_first(api: KitClient, agent_run: AgentRun) -> None:
    """Requirement: /req/stars/monthly-first (debits draw from the monthly compartment first, then from the package).
    Test purpose: while the monthly compartment holds Stars, a run's debits come from it and the package is untouched.
    Test method: 1. read the compartments before and after one agent run 2. list the run's debit lines
    3. check no line debits the package while the monthly compartment is above 0 (a line from the package leaves
    monthly at 0) 4. when nothing else spent meanwhile, check monthly fell by min(cost, monthly) and the package by the rest.
    """
    requirement = "/req/stars/monthly-first"
    run = agent_run.require_terminal()
    cost = run.get("stars_cost")
    if not cost:
        pytest.skip(f"the shared run ended {run.get('status')} having spent no Stars; no debit to examine")
    before, after = body_of(agent_run.balance_before), body_of(agent_run.balance_after)
    if not all(_is_count(side.get(name)) for side in (before, after) for name in ("monthly", "package")):
        pytest.skip("the compartments could not be read around the run")
    if before["monthly"] == 0:
        pytest.skip("the monthly compartment was already empty, so the order of the compartments cannot be observed")
    lines, page = _debit_lines(api, run, requirement)
    for line in lines:
        shown = line.get("balance_after") or {}
        if line.get("compartment") == "package" and shown.get("monthly") != 0:
            raise violation(requirement, "a debit from the package only once monthly is 0", f"line {line.get('id')}: package debited with monthly at {shown.get('monthly')!r}", page)
    since = agent_run.lines_since
    if since is not None and all(line.get("run_id") == run["id"] for line in since):
        from_monthly = min(cost, before["monthly"])
        expected = {"monthly": before["monthly"] - from_monthly, "package": before["package"] - (cost - from_monthly)}
        shown = {"monthly": after["monthly"], "package": after["package"]}
        if shown != expected:
            raise violation(requirement, f"after spending {cost} from {before['monthly']} monthly + {before['package']} package: {expected}",
                            repr(shown), agent_run.balance_after)


# --- caps ---------------------------------------------------------------------------------


@contextmanager
def _caps_restored(api: KitClient, requirement: str) -> Iterator[dict[str, Any]]:
    """The caps as found (StarsCapsUpdate shape); put back afterwards whatever happens."""
    read = api.get("/stars/caps")
    if read.status != 200 or not all(name in body_of(read) for name in CAPS_FIELDS):
        raise violation(requirement, "200 with the caps for an owner", read.describe(), read)
    original = {name: body_of(read)[name] for name in CAPS_FIELDS}
    try:
        yield original
    finally:
        restored = api.put("/stars/caps", original)
        if restored.status != 200 or {name: body_of(restored).get(name) for name in CAPS_FIELDS} != original:
            raise violation(requirement, f"the original caps restored: {original}", restored.describe(), restored)


def _agent(api: KitClient, agent_run: AgentRun) -> dict[str, Any]:
    if agent_run.agent is None:
        pytest.skip(f"the organization has no agent to invoke ({agent_run.agents_page.describe()[:200]})")
    return agent_run.agent


def _me(agent_run: AgentRun) -> str | None:
    """The calling user's id, as the shared run reports it (invoked_by)."""
    return body_of(agent_run.invoke).get("invoked_by") if agent_run.run_id else None


def _blocked_invocation(kit: KitSession, api: KitClient, agent_id: str, caps: dict[str, Any], expected_code: str, requirement: str, why: str) -> None:
    """Set `caps`, invoke `agent_id`, expect 409 `expected_code`, and check no run was created and nothing was debited."""
    updated = api.put("/stars/caps", caps)
    if updated.status != 200:
        raise violation(requirement, f"200 setting the caps {caps}", updated.describe(), updated)
    marker = api.get("/stars/transactions", params={"limit": 1})
    newest_before = (body_of(marker).get("items") or [{}])[0].get("id")
    runs_before = api.get("/runs", params={"agent_id": agent_id, "limit": 1})
    run_before = (body_of(runs_before).get("items") or [{}])[0].get("id")
    invoke = api.post(f"/agents/{agent_id}/runs", {"input": {"prompt": f"Summarise the week for the conformance run {kit.tag}."}}, headers=idempotency_key())
    if invoke.status == 201:  # not blocked: stop the run at once so it spends as little as possible
        api.post(f"/runs/{body_of(invoke).get('id')}/cancel", headers=idempotency_key())
    error = body_of(invoke).get("error")
    code = error.get("code") if isinstance(error, dict) else None
    if invoke.status != 409 or code != expected_code:
        raise violation(requirement, f"409 {expected_code} ({why})", invoke.describe(), invoke)
    runs_after = api.get("/runs", params={"agent_id": agent_id, "limit": 1})
    if (body_of(runs_after).get("items") or [{}])[0].get("id") != run_before:
        raise violation(requirement, "no run created by a blocked invocation", runs_after.describe(), runs_after)
    marker_after = api.get("/stars/transactions", params={"limit": 1})
    if (body_of(marker_after).get("items") or [{}])[0].get("id") != newest_before:
        raise violation(requirement, "no ledger line written by a blocked invocation", marker_after.describe(), marker_after)


def _require_funds(api: KitClient) -> None:
    balance = api.get("/stars/balance")
    if balance.status == 200 and body_of(balance).get("total") == 0:
        pytest.skip("the wallet is empty: its check fires before every cap, so no cap can be observed")


@pytest.mark.requirement("/req/stars/blocked-names-cap")
def test_blocked_call_names_the_cap(kit: KitSession, api: KitClient, agent_run: AgentRun) -> None:
    """Requirement: /req/stars/blocked-names-cap (a call blocked by a cap gets an error whose code names that cap).
    Test purpose: each cap, made to fire on its own, blocks invokeAgent with its own code, creating no run and debiting nothing.
    Test method: 1. read the caps (restored at the end, whatever happens) 2. set the agent's daily cap to 0 with no
    other cap: expect 409 stars_cap_agent_daily 3. set only the caller's monthly cap on the agent to 0: expect 409
    stars_cap_user_agent_monthly 4. set only the organization's monthly cap to 0: expect 409
    stars_cap_organization_monthly 5. after each, check no new run and no new ledger line. (The wallet check cannot
    be made to fire without emptying the wallet, so it is not exercised.)
    """
    requirement = "/req/stars/blocked-names-cap"
    agent = _agent(api, agent_run)
    _require_funds(api)
    me = _me(agent_run)
    with _caps_restored(api, requirement) as original:
        open_caps = {"organization_monthly": None, "agent_daily_default": original["agent_daily_default"], "agents": [{"agent_id": agent["id"], "daily": None}], "user_agent_monthly": []}
        _blocked_invocation(kit, api, agent["id"], {**open_caps, "agents": [{"agent_id": agent["id"], "daily": 0}]},
                            CAP_CODES["agent_daily_cap"], requirement, "the agent's daily cap is 0")
        if me is not None:
            _blocked_invocation(kit, api, agent["id"], {**open_caps, "user_agent_monthly": [{"user_id": me, "agent_id": agent["id"], "monthly": 0}]},
                                CAP_CODES["user_agent_monthly_cap"], requirement, "the caller's monthly cap on the agent is 0")
        _blocked_invocation(kit, api, agent["id"], {**open_caps, "organization_monthly": 0},
                            CAP_CODES["organization_monthly_cap"], requirement, "the organization's monthly cap is 0")


@pytest.mark.requirement("/req/stars/cap-order")
def test_caps_fire_in_the_documented_order(kit: KitSession, api: KitClient, agent_run: AgentRun) -> None:
    """Requirement: /req/stars/cap-order (wallet, organization monthly, agent daily, user-per-agent monthly; the first that fires blocks).
    Test purpose: when several caps would block, the one earliest in the fixed order is the one reported.
    Test method: 1. read the caps (restored at the end, whatever happens) and check check_order is the documented one
    2. set the organization's monthly cap and the agent's daily cap both to 0: expect 409 stars_cap_organization_monthly
    3. set the agent's daily cap and the caller's monthly cap on the agent both to 0: expect 409 stars_cap_agent_daily
    4. after each, check no new run and no new ledger line.
    """
    requirement = "/req/stars/cap-order"
    agent = _agent(api, agent_run)
    _require_funds(api)
    me = _me(agent_run)
    documented = kit.spec.document["components"]["schemas"]["CapName"]["enum"]
    with _caps_restored(api, requirement) as original:
        shown = api.get("/stars/caps")
        if body_of(shown).get("check_order") != documented:
            raise violation(requirement, f"check_order {documented}", repr(body_of(shown).get("check_order")), shown)
        base = {"organization_monthly": None, "agent_daily_default": original["agent_daily_default"], "agents": [], "user_agent_monthly": []}
        _blocked_invocation(kit, api, agent["id"], {**base, "organization_monthly": 0, "agents": [{"agent_id": agent["id"], "daily": 0}]},
                            CAP_CODES["organization_monthly_cap"], requirement, "the organization's monthly cap is checked before the agent's daily cap")
        if me is not None:
            _blocked_invocation(kit, api, agent["id"], {**base, "agents": [{"agent_id": agent["id"], "daily": 0}],
                                                        "user_agent_monthly": [{"user_id": me, "agent_id": agent["id"], "monthly": 0}]},
                                CAP_CODES["agent_daily_cap"], requirement, "the agent's daily cap is checked before the caller's monthly cap on it")


@pytest.mark.requirement("/req/stars/billing-visibility")
def test_billing_visibility_by_role(kit: KitSession) -> None:
    """Requirement: /req/stars/billing-visibility (members see the total only; viewers see no billing data).
    Test purpose: the balance shows each role what it may see.
    Test method: 1. read getStarsBalance as a member: 200 with the total and monthly and package null
    2. read it as a viewer: 403 insufficient_role.
    """
    member, viewer = kit.settings.member_token, kit.settings.viewer_token
    if not member and not viewer:
        pytest.skip("no member or viewer credentials (--member-token, --viewer-token)")
    if member:
        with identity(kit.tenant_a, token=member) as client:
            seen = client.get("/stars/balance")
        body = seen.response_body if isinstance(seen.response_body, dict) else {}
        if seen.status != 200 or not isinstance(body.get("total"), int) or body.get("monthly") is not None or body.get("package") is not None:
            raise violation("/req/stars/billing-visibility", "200 with the total and monthly/package null for a member", seen.describe(), seen)
    if viewer:
        with identity(kit.tenant_a, token=viewer) as client:
            seen = client.get("/stars/balance")
        if seen.status != 403 or ((seen.response_body or {}).get("error") or {}).get("code") != "insufficient_role":
            raise violation("/req/stars/billing-visibility", "403 insufficient_role for a viewer", seen.describe(), seen)
