"""Fixtures the surface scenarios share: the webhook receiver, the run's pipeline, one agent run.

Fixtures only gather what the server said; the tests judge it, so a broken
behaviour fails the test that owns its requirement and nothing else.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from apollospace_conformance.checks import ContractViolation
from apollospace_conformance.http import Exchange, KitClient
from apollospace_conformance.receiver import WebhookReceiver
from apollospace_conformance.session import KitSession

LIVE_RUN_STATUSES = ("queued", "running")
RUN_TIMEOUT_SECONDS = 120.0  # the longest a run may take to reach a terminal state
QUIET_WAIT_SECONDS = 30.0  # how long to wait for other live runs before measuring the wallet
LEDGER_MAX_PAGES = 20


def body_of(exchange: Exchange | None) -> dict[str, Any]:
    """The JSON object body of an exchange, or {}."""
    return exchange.response_body if exchange is not None and isinstance(exchange.response_body, dict) else {}


def idempotency_key() -> dict[str, str]:
    """A fresh Idempotency-Key: unique per execution, so a rerun with the same seed never replays an old request."""
    return {"Idempotency-Key": str(uuid.uuid4())}


# --- the webhook receiver ----------------------------------------------------------------


@pytest.fixture(scope="session")
def receiver(kit: KitSession) -> Iterator[WebhookReceiver]:
    """The kit's webhook receiver, started once for the run and stopped at its end."""
    try:
        started = WebhookReceiver(kit.settings.webhook_bind, kit.settings.webhook_public_url).start()
    except OSError as exc:
        pytest.skip(f"the webhook receiver cannot listen on {kit.settings.webhook_bind}: {exc}")
    try:
        yield started
    finally:
        started.stop()


# --- the run's pipeline --------------------------------------------------------------------


@dataclass
class RunPipeline:
    """The one pipeline a run creates (v1 has no DELETE for pipelines), named with the run's tag."""

    creation: Exchange

    @property
    def id(self) -> str | None:
        created = body_of(self.creation)
        return str(created["id"]) if self.creation.status == 201 and created.get("id") else None

    def require(self) -> str:
        """The pipeline's id; skips the calling test when it could not be created."""
        if self.id is None:
            pytest.skip(f"the run's pipeline could not be created: {self.creation.describe()[:300]}")
        return self.id


@pytest.fixture(scope="session")
def run_pipeline(kit: KitSession, api: KitClient) -> RunPipeline:
    """Create the run's pipeline once (without stages: the defaults) and share it."""
    created = api.post("/pipelines", {"name": kit.tag})
    kit.remember_created(api, created)  # no DELETE in v1: the report lists it as left on the target
    return RunPipeline(created)


# --- one agent run, with the wallet around it ----------------------------------------------


@dataclass
class AgentRun:
    """One invocation followed to its end, with the Stars wallet and ledger before and after."""

    agent: dict[str, Any] | None
    agents_page: Exchange
    balance_before: Exchange | None = None
    ledger_marker: str | None = None  # id of the newest ledger line before the invocation
    ledger_marker_page: Exchange | None = None
    invoke: Exchange | None = None
    polls: list[Exchange] = field(default_factory=list)  # every getRun, in order
    settled: list[Exchange] = field(default_factory=list)  # getRun after the run was terminal
    trace: Exchange | None = None
    trace_unanswered: str | None = None  # why getRunTrace gave no answer
    balance_after: Exchange | None = None
    lines_since: list[dict[str, Any]] | None = None  # ledger lines newer than the marker, newest first
    ledger_pages: list[Exchange] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def run_id(self) -> str | None:
        created = body_of(self.invoke)
        return str(created["id"]) if self.invoke is not None and self.invoke.status == 201 and created.get("id") else None

    @property
    def final(self) -> dict[str, Any]:
        """The run as last read."""
        for exchange in reversed([*self.polls, *self.settled]):
            if exchange.status == 200 and isinstance(exchange.response_body, dict):
                return exchange.response_body
        return body_of(self.invoke)

    @property
    def terminal(self) -> bool:
        return self.final.get("status") not in (None, *LIVE_RUN_STATUSES)

    def require_run(self) -> str:
        if self.agent is None:
            pytest.skip(f"the organization has no agent to invoke ({self.agents_page.describe()[:200]})")
        if self.run_id is None:
            pytest.skip(f"invokeAgent did not create a run: {self.invoke.describe()[:300] if self.invoke else 'not sent'}")
        return self.run_id

    def require_terminal(self) -> dict[str, Any]:
        self.require_run()
        if not self.terminal:
            pytest.skip(f"the run did not reach a terminal state within {RUN_TIMEOUT_SECONDS:.0f} s (last status {self.final.get('status')!r})")
        return self.final


def wait_for_quiet(api: KitClient, deadline: float) -> None:
    """Give the organization's live runs (of earlier tests) a bounded chance to finish, so the wallet holds still."""
    pause = 0.2
    while time.monotonic() < deadline:
        live = [api.get("/runs", params={"status": status, "limit": 1}) for status in LIVE_RUN_STATUSES]
        if all(page.status == 200 and not body_of(page).get("items") for page in live):
            return
        time.sleep(pause)
        pause = min(pause * 2, 2.0)


def ledger_since(api: KitClient, marker: str | None) -> tuple[list[dict[str, Any]] | None, list[Exchange]]:
    """The ledger lines newer than `marker`, newest first (None when the walk cannot reach it)."""
    lines: list[dict[str, Any]] = []
    pages: list[Exchange] = []
    cursor = None
    for _ in range(LEDGER_MAX_PAGES):
        page = api.get("/stars/transactions", params={"limit": 50, **({"cursor": cursor} if cursor else {})})
        pages.append(page)
        body = body_of(page)
        if page.status != 200 or not isinstance(body.get("items"), list):
            return None, pages
        for line in body["items"]:
            if marker is not None and line.get("id") == marker:
                return lines, pages
            lines.append(line)
        cursor = body.get("next_cursor")
        if not cursor:
            return (lines if marker is None else None), pages
    return None, pages


def follow_run(api: KitClient, run_id: str, polls: list[Exchange], timeout: float = RUN_TIMEOUT_SECONDS) -> dict[str, Any]:
    """Poll getRun until the run is terminal or `timeout` passes; every read lands in `polls`."""
    deadline = time.monotonic() + timeout
    pause = 0.05
    last: dict[str, Any] = {}
    while True:
        read = api.get(f"/runs/{run_id}")
        polls.append(read)
        if read.status == 200 and isinstance(read.response_body, dict):
            last = read.response_body
            if last.get("status") not in LIVE_RUN_STATUSES:
                return last
        if time.monotonic() >= deadline:
            return last
        time.sleep(pause)
        pause = min(pause * 1.5, 2.0)


@pytest.fixture(scope="session")
def agent_run(kit: KitSession, api: KitClient) -> AgentRun:
    """Invoke the organization's first agent once for the whole run (runs spend Stars) and follow it to its end."""
    agents = api.get("/agents", params={"limit": 10})
    items = body_of(agents).get("items") or []
    observed = AgentRun(agent=dict(items[0]) if agents.status == 200 and items else None, agents_page=agents)
    if observed.agent is None:
        return observed
    wait_for_quiet(api, time.monotonic() + QUIET_WAIT_SECONDS)
    observed.balance_before = api.get("/stars/balance")
    marker_page = api.get("/stars/transactions", params={"limit": 1})
    observed.ledger_marker_page = marker_page
    newest = body_of(marker_page).get("items") or []
    observed.ledger_marker = str(newest[0]["id"]) if marker_page.status == 200 and newest else None
    started = time.monotonic()
    body = {"input": {"prompt": f"Research Vela Logística's fleet and logistics director ({kit.tag})."},
            "metadata": {"conformance_run": kit.run_id}}
    observed.invoke = api.post(f"/agents/{observed.agent['id']}/runs", body, headers=idempotency_key())
    run_id = observed.run_id
    if run_id is None:
        return observed
    final = follow_run(api, run_id, observed.polls)
    observed.elapsed = time.monotonic() - started
    if final.get("status") not in (None, *LIVE_RUN_STATUSES):
        time.sleep(0.5)
        observed.settled.append(api.get(f"/runs/{run_id}"))
    else:  # still live after the timeout: stop it rather than let it spend on
        api.post(f"/runs/{run_id}/cancel", headers=idempotency_key())
    try:
        observed.trace = api.get(f"/runs/{run_id}/trace")
    except ContractViolation as unanswered:  # /req/responses/timely, already recorded: only the trace test is left without input
        observed.trace_unanswered = unanswered.received
    observed.balance_after = api.get("/stars/balance")
    observed.lines_since, observed.ledger_pages = ledger_since(api, observed.ledger_marker)
    return observed
