"""Agents, runs and traces: invoke, follow a run to its end, read its trace, cancel.

Runs spend Stars, so the suite invokes few: one shared run (the `agent_run`
fixture, also used by the Stars tests) and at most three for cancellation.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlparse

import pytest

from apollospace_conformance.checks import violation
from apollospace_conformance.evidence import blocked
from apollospace_conformance.http import Exchange, KitClient
from apollospace_conformance.session import KitSession

from .conftest import (
    LIVE_RUN_STATUSES,
    AgentRun,
    body_of,
    idempotency_key,
)

TERMINAL = ("succeeded", "failed", "canceled", "blocked")
STEP_FIELDS = ("index", "type", "name", "input", "output", "stars_cost", "status", "started_at", "finished_at", "duration_ms")
CANCEL_ATTEMPTS = 3


def _rank(status: Any) -> int:
    return 0 if status == "queued" else 1 if status == "running" else 2


def relative(kit: KitSession, location: str) -> str:
    """A Location header as a path relative to the API base (`/v1/runs/x` -> `/runs/x`)."""
    path = urlparse(location).path
    prefix = urlparse(kit.settings.url).path.rstrip("/")
    return path[len(prefix):] if prefix and path.startswith(prefix) else path


@pytest.mark.requirement("/req/agents/invoke-creates-run")
def test_invoke_creates_a_run(kit: KitSession, api: KitClient, agent_run: AgentRun) -> None:
    """Requirement: /req/agents/invoke-creates-run (invoking an agent creates a run, 201, that can be read back).
    Test purpose: invokeAgent answers 201 with a new, queued run that has spent nothing, and the run is readable.
    Test method: 1. invoke the organization's first agent with a prompt and metadata 2. expect 201 with status queued,
    stars_cost 0, the agent, the input and the metadata as sent 3. read the run at its Location and by id
    4. find it in listRuns filtered by the agent.
    """
    requirement = "/req/agents/invoke-creates-run"
    if agent_run.agent is None:
        pytest.skip(f"the organization has no agent to invoke ({agent_run.agents_page.describe()[:200]})")
    invoke = agent_run.invoke
    assert invoke is not None
    if invoke.status != 201:
        raise violation(requirement, "201 with the new run", invoke.describe(), invoke)
    run = body_of(invoke)
    sent = invoke.request_body or {}
    expected = {"status": "queued", "stars_cost": 0, "agent_id": agent_run.agent["id"], "finished_at": None,
                "input": {"prompt": sent["input"]["prompt"], "lead_id": None}, "metadata": sent.get("metadata", {})}
    for name, value in expected.items():
        if run.get(name) != value:
            raise violation(requirement, f"the new run with {name} = {value!r}", f"{name} = {run.get(name)!r}", invoke)
    location = invoke.response_headers.get("location")
    reads: list[Exchange] = []
    if location:
        reads.append(api.get(relative(kit, location)))
    reads.append(api.get(f"/runs/{run['id']}"))
    for read in reads:
        if read.status != 200 or body_of(read).get("id") != run["id"] or body_of(read).get("agent_id") != run["agent_id"]:
            raise violation(requirement, f"200 with run {run['id']} of agent {run['agent_id']}", read.describe(), read)
    listed = api.get("/runs", params={"agent_id": run["agent_id"], "created_after": run["created_at"], "limit": 100})
    ids = [item.get("id") for item in body_of(listed).get("items") or []]
    if listed.status != 200 or run["id"] not in ids:
        raise violation(requirement, f"run {run['id']} in listRuns of its agent created since {run['created_at']}", listed.describe(), listed)


@pytest.mark.requirement("/req/agents/run-lifecycle")
def test_run_moves_forward_to_one_terminal_state(agent_run: AgentRun) -> None:
    """Requirement: /req/agents/run-lifecycle (queued, then running, then exactly one terminal state it never leaves).
    Test purpose: a run's status only moves forward and settles in one terminal state within a bounded time.
    Test method: 1. poll getRun from the invocation until the status is terminal (at most 120 s, backing off)
    2. check every observed status is at or after the previous one (queued < running < terminal)
    3. check started_at is set once the run left queued, finished_at exactly when terminal, stars_cost never decreases
    4. read the run again after it ended and check nothing changed.
    """
    requirement = "/req/agents/run-lifecycle"
    agent_run.require_run()
    observed: list[tuple[dict[str, Any], Exchange]] = [(body_of(agent_run.invoke), agent_run.invoke)]  # type: ignore[list-item]
    for read in [*agent_run.polls, *agent_run.settled]:
        if read.status != 200:
            raise violation(requirement, "200 with the run on every poll", read.describe(), read)
        observed.append((body_of(read), read))
    statuses = [run.get("status") for run, _ in observed]
    for (before, _), (after, exchange) in zip(observed, observed[1:], strict=False):
        if after.get("status") not in (*LIVE_RUN_STATUSES, *TERMINAL):
            raise violation(requirement, "a RunStatus", repr(after.get("status")), exchange)
        if _rank(after["status"]) < _rank(before.get("status")) or (before.get("status") in TERMINAL and after["status"] != before["status"]):
            raise violation(requirement, "a status that only moves forward and never leaves its terminal state",
                            f"{before.get('status')} then {after['status']} (statuses seen: {statuses})", exchange)
        if (after.get("stars_cost") or 0) < (before.get("stars_cost") or 0):
            raise violation(requirement, "stars_cost that never decreases", f"{before.get('stars_cost')} then {after.get('stars_cost')}", exchange)
    final, last = observed[-1]
    if final.get("status") not in TERMINAL:
        raise violation(requirement, "a terminal state within 120 s", f"still {final.get('status')!r} after {agent_run.elapsed:.0f} s (statuses seen: {statuses})", last)
    for run, exchange in observed:
        if run.get("status") == "running" and not run.get("started_at"):
            raise violation(requirement, "started_at set once the run is running", f"started_at = {run.get('started_at')!r}", exchange)
        if (run.get("status") in TERMINAL) != bool(run.get("finished_at")):
            raise violation(requirement, "finished_at set exactly when the run is terminal", f"status {run.get('status')}, finished_at {run.get('finished_at')!r}", exchange)
    if final["status"] in ("succeeded", "failed", "blocked") and not final.get("started_at"):
        raise violation(requirement, f"started_at set on a run that ran and ended {final['status']}", "started_at = null", last)
    if agent_run.settled:
        first_terminal = next(run for run, _ in observed if run.get("status") in TERMINAL)
        for name in ("status", "stars_cost", "finished_at", "output", "blocked_by"):
            if final.get(name) != first_terminal.get(name):
                raise violation(requirement, f"a terminal run that never changes ({name})", f"{first_terminal.get(name)!r} then {final.get(name)!r}", last)


@pytest.mark.requirement("/req/agents/trace")
def test_trace_has_ordered_steps_that_add_up(agent_run: AgentRun) -> None:
    """Requirement: /req/agents/trace (ordered steps with type, input, output, Stars cost, status and timing; costs add up).
    Test purpose: a finished run's trace lists its steps in order, each complete, and their costs sum to the run's cost.
    Test method: 1. follow one run to its terminal state 2. read getRunTrace 3. check run_id, indexes 0..n-1 in order,
    every documented field on every step, timing consistent 4. check the sum of the steps' stars_cost equals the run's stars_cost.
    """
    requirement = "/req/agents/trace"
    run = agent_run.require_terminal()
    trace = agent_run.trace
    if trace is None:
        blocked("/req/responses/timely", f"getRunTrace went unanswered: {agent_run.trace_unanswered}")
    if trace.status != 200 or not isinstance(body_of(trace).get("steps"), list):
        raise violation(requirement, "200 with {run_id, steps}", trace.describe(), trace)
    body = body_of(trace)
    if body.get("run_id") != run["id"]:
        raise violation(requirement, f"run_id {run['id']}", repr(body.get("run_id")), trace)
    steps = body["steps"]
    if run["status"] in ("succeeded", "failed", "blocked") and not steps:
        raise violation(requirement, f"at least one step for a run that ended {run['status']}", "no steps", trace)
    for position, step in enumerate(steps):
        missing = [name for name in STEP_FIELDS if not isinstance(step, dict) or name not in step]
        if missing:
            raise violation(requirement, f"every step with {', '.join(STEP_FIELDS)}", f"step {position} lacks {', '.join(missing)}", trace)
        if step["index"] != position:
            raise violation(requirement, "steps ordered by index, from 0, without gaps", f"index {step['index']!r} at position {position}", trace)
        if step["status"] != "skipped" and (not step["started_at"] or not step["finished_at"]):
            raise violation(requirement, "started_at and finished_at on a step that ran", f"step {position}: {step['started_at']!r} to {step['finished_at']!r}", trace)
        if step["started_at"] and step["finished_at"] and step["finished_at"] < step["started_at"]:
            raise violation(requirement, "a step that finishes after it starts", f"step {position}: {step['started_at']} to {step['finished_at']}", trace)
    starts = [step["started_at"] for step in steps if step["started_at"]]
    if starts != sorted(starts):
        raise violation(requirement, "steps in the order they ran (started_at non-decreasing with index)", f"started_at in index order: {starts}", trace)
    total = sum(int(step["stars_cost"]) for step in steps)
    if total != run.get("stars_cost"):
        raise violation(requirement, f"step costs adding up to the run's stars_cost {run.get('stars_cost')}", f"they add up to {total}", trace)
    if run["status"] == "blocked" and steps and steps[-1]["status"] != "blocked":
        raise violation(requirement, "a blocked run whose last step is the blocking budget check", f"last step status {steps[-1]['status']!r}", trace)


@pytest.mark.requirement("/req/agents/cancel")
def test_cancel_live_and_terminal_runs(kit: KitSession, api: KitClient, agent_run: AgentRun) -> None:
    """Requirement: /req/agents/cancel (a queued or running run can be canceled; a terminal one is 409 run_not_cancelable).
    Test purpose: cancelRun stops a live run for good and refuses a run that has already ended.
    Test method: 1. cancel the shared run, already terminal: expect 409 run_not_cancelable and the run unchanged
    2. invoke the agent and cancel the new run at once: expect 200 with status canceled (a 409 is accepted only if
    the run had really ended first; then try again, at most three invocations) 3. read it twice: still canceled,
    its cost unchanged 4. cancel it again: expect 409 run_not_cancelable.
    """
    requirement = "/req/agents/cancel"
    finished = agent_run.require_terminal()
    refused = api.post(f"/runs/{finished['id']}/cancel", headers=idempotency_key())
    _expect_not_cancelable(requirement, refused, f"cancelRun of a run already {finished['status']}")
    after = api.get(f"/runs/{finished['id']}")
    if body_of(after).get("status") != finished["status"]:
        raise violation(requirement, f"the {finished['status']} run unchanged by a refused cancel", after.describe(), after)

    agent_id = finished["agent_id"]
    for attempt in range(1, CANCEL_ATTEMPTS + 1):
        body = {"input": {"prompt": f"Draft a short follow-up for the conformance run {kit.tag} (cancel attempt {attempt})."}}
        invoke = api.post(f"/agents/{agent_id}/runs", body, headers=idempotency_key())
        if invoke.status != 201:
            pytest.skip(f"invokeAgent did not create a run to cancel: {invoke.describe()[:300]}")
        run_id = body_of(invoke)["id"]
        canceled = api.post(f"/runs/{run_id}/cancel", headers=idempotency_key())
        if canceled.status == 409:
            read = api.get(f"/runs/{run_id}")
            status = body_of(read).get("status")
            if status in LIVE_RUN_STATUSES:
                raise violation(requirement, f"200 canceling a run that is {status}", canceled.describe(), canceled)
            continue  # the run ended before the cancel reached it: try again
        if canceled.status != 200 or body_of(canceled).get("status") != "canceled":
            raise violation(requirement, "200 with the run, status canceled", canceled.describe(), canceled)
        if not body_of(canceled).get("finished_at"):
            raise violation(requirement, "finished_at set on the canceled run", canceled.describe(), canceled)
        cost = body_of(canceled).get("stars_cost")
        for pause in (0.0, 1.0):
            time.sleep(pause)
            read = api.get(f"/runs/{run_id}")
            if body_of(read).get("status") != "canceled" or body_of(read).get("stars_cost") != cost:
                raise violation(requirement, f"the run still canceled with stars_cost {cost}", read.describe(), read)
        again = api.post(f"/runs/{run_id}/cancel", headers=idempotency_key())
        _expect_not_cancelable(requirement, again, "cancelRun of a run already canceled")
        return
    pytest.skip(f"each of {CANCEL_ATTEMPTS} runs reached a terminal state before its cancel arrived; no live run could be canceled")


def _expect_not_cancelable(requirement: str, exchange: Exchange, what: str) -> None:
    error = body_of(exchange).get("error")
    code = error.get("code") if isinstance(error, dict) else None
    if exchange.status != 409 or code != "run_not_cancelable":
        raise violation(requirement, f"409 run_not_cancelable for {what}", exchange.describe(), exchange)
