"""Idempotency-Key on POST and billable operations (conformance class `idempotency`).

Every POST of the spec is sent once with a key. The behaviour of a key is
checked on createLead (replay, reuse with another body, sixteen concurrent
duplicates) and on the spec's billable operation, invokeAgent, whose retry must
never start a second run nor debit Stars twice: it is invoked once (and replayed
once), because runs spend the organization's Stars.

Keys carry the run's start time besides the seed's random part: a server keeps
keys for 24 hours, and a rerun with the same seed must not replay the responses
of the previous run.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest

from apollospace_conformance import runtime
from apollospace_conformance.checks import violation
from apollospace_conformance.evidence import blocked
from apollospace_conformance.http import Exchange, KitClient
from apollospace_conformance.resources import expect_status, first_pipeline_id, lead_body
from apollospace_conformance.session import KitSession
from apollospace_spec.model import Operation, resolve

from ._requests import (
    documented_body_example,
    error_code,
    has_envelope,
    random_uuid4,
)

_run = runtime.require()
_SPEC = _run.state.spec
POSTS: list[Operation] = [op for op in _SPEC.operations if op.method == "post"]
CONCURRENT = 16
LIVE_RUN_STATES = {"queued", "running"}  # RunStatus: every other state is terminal
RUN_WAIT_SECONDS = 90.0
QUIET_WAIT_SECONDS = 30.0


# --- helpers ------------------------------------------------------------------------------


def idempotency_key(kit: KitSession) -> str:
    """A fresh key: the seed's random part plus the run's start, so reruns never collide."""
    return f"{kit.run_id}-{kit.started_at:%Y%m%dT%H%M%S%f}-{kit.random.getrandbits(64):016x}"


def unique_email(kit: KitSession, purpose: str) -> str:
    return f"{purpose}.{kit.started_at:%Y%m%d%H%M%S%f}.{kit.random.randrange(10**6)}@example.com"






def remember_once(kit: KitSession, api: KitClient, exchanges: list[Exchange]) -> None:
    """Queue every distinct resource the exchanges created for deletion (a replay names the same one)."""
    seen = set()
    for exchange in exchanges:
        location = exchange.response_headers.get("location")
        if 200 <= exchange.status < 300 and location and location not in seen:
            seen.add(location)
            kit.remember_created(api, exchange)


def leads_with_email(kit: KitSession, api: KitClient, email: str) -> tuple[list[dict[str, Any]], Exchange]:
    """The run's tagged leads with this email (the tag bounds the list to what the kit created)."""
    found: list[dict[str, Any]] = []
    cursor = None
    for _ in range(50):
        page = api.get("/leads", params={"tag": kit.tag, "limit": 200, **({"cursor": cursor} if cursor else {})})
        body = expect_status(page, 200, "/req/pagination/cursor-based", "listLeads filtered by the run's tag")
        found += [lead for lead in body["items"] if str(lead.get("email") or "").lower() == email.lower()]
        cursor = body.get("next_cursor")
        if not cursor:
            return found, page
    raise violation("/req/pagination/next-cursor-null-at-end", "the end of listLeads", "next_cursor never null", page)


def expect_created(kit: KitSession, api: KitClient, exchange: Exchange, path: str, body: Any, requirement: str, what: str) -> dict[str, Any]:
    """The body of a keyed creating call answered 201; a violation of the requirement it breaks otherwise.

    A 400 is the key's fault only when the same request without the key is accepted (sent once to find out).
    """
    if exchange.status == 201 and isinstance(exchange.response_body, dict):
        return exchange.response_body
    if exchange.status == 400:
        plain = api.post(path, body)
        remember_once(kit, api, [plain])
        if 200 <= plain.status < 300:
            raise violation("/req/idempotency/key-accepted", f"{what} accepted with an Idempotency-Key as without ({plain.status})",
                            exchange.describe(), exchange)
    raise violation(requirement, f"201 with the created resource for {what}", exchange.describe(), exchange)




def harmless(kit: KitSession, op: Operation, body: dict[str, Any]) -> dict[str, Any]:
    """The spec's example, made as harmless as its schema allows: disabled, dry run, named after the run."""
    media = resolve(_SPEC.document, op.definition["requestBody"])["content"]["application/json"]
    properties = resolve(_SPEC.document, media["schema"]).get("properties", {})
    for name, schema in properties.items():
        schema = resolve(_SPEC.document, schema)
        kinds = schema.get("type") if isinstance(schema.get("type"), list) else [schema.get("type")]
        if name == "enabled" and "boolean" in kinds:
            body[name] = False
        elif name == "dry_run" and "boolean" in kinds:
            body[name] = True
        elif name in ("name", "description") and "string" in kinds and name in body:
            body[name] = f"{kit.tag} idempotency"[: int(schema.get("maxLength", 100))]
    return body


# --- /req/idempotency/key-accepted ----------------------------------------------------------------


@pytest.mark.requirement("/req/idempotency/key-accepted")
@pytest.mark.parametrize("operation_id", [op.operation_id for op in POSTS])
def test_key_accepted(kit: KitSession, api: KitClient, operation_id: str) -> None:
    """Requirement: /req/idempotency/key-accepted (every POST accepts an optional Idempotency-Key header).
    Test purpose: a POST carrying a fresh key is handled as the operation, never refused for the header.
    Test method: 1. build the operation's request from the spec: random ids for its path parameters (so it acts on
    nothing) and the spec's example body, made harmless (disabled, dry run) 2. send it with a fresh Idempotency-Key
    3. check the answer is a success or one of the operation's documented 404/409 codes (the request reached the
    operation), not an idempotency conflict 4. on a 400, send it again without the key: it must not be accepted then.
    """
    op = next(o for o in POSTS if o.operation_id == operation_id)
    values = {p["name"]: random_uuid4(kit)
              for p in op.parameters(_SPEC.document) if p["in"] == "path"}
    path = op.path.format(**values)
    body = documented_body_example(kit, op)
    if body is not None:
        body = harmless(kit, op, body)
    elif op.definition.get("requestBody") and resolve(_SPEC.document, op.definition["requestBody"]).get("required"):
        pytest.skip(f"the spec has no example body for {operation_id}")
    keyed = api.post(path, body, headers={"Idempotency-Key": idempotency_key(kit)})
    code = error_code(keyed)
    if 200 <= keyed.status < 300:
        remember_once(kit, api, [keyed])
        return
    if keyed.status in (404, 409) and (code, keyed.status) in kit.spec.documented_errors(op) and not str(code).startswith("idempotency_"):
        return
    if keyed.status in (403, 429):
        pytest.skip(f"{operation_id} with a key was answered {keyed.status} {code} (role or rate limit), which says nothing about the key")
    if keyed.status == 400:
        plain = api.post(path, body)
        remember_once(kit, api, [plain])
        if plain.status == 400 and error_code(plain) == code:
            pytest.skip(f"{operation_id}: the spec's example is refused with or without a key (400 {code})")
        raise violation("/req/idempotency/key-accepted", f"{operation_id} answered as without the key ({plain.status} {error_code(plain)})",
                        keyed.describe(), keyed)
    raise violation("/req/idempotency/key-accepted", f"{operation_id} with a fresh Idempotency-Key handled: 2xx or a documented 404/409",
                    keyed.describe(), keyed)


# --- /req/idempotency/replay ----------------------------------------------------------------------


@pytest.mark.requirement("/req/idempotency/replay")
def test_replay(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/idempotency/replay (a retry with the same key and request returns the first response and has no second effect).
    Test purpose: a client that retries createLead with its key gets the first answer and one lead, not two.
    Test method: 1. createLead with a key and a body with a unique email: 201 2. send the same key and body again
    3. check the second answer has the first's status and body 4. check exactly one lead of the run has that email.
    """
    email = unique_email(kit, "replay")
    body = lead_body(kit, first_pipeline_id(api), email=email)
    key = idempotency_key(kit)
    first = api.post("/leads", body, headers={"Idempotency-Key": key})
    expect_created(kit, api, first, "/leads", body, "/req/status-codes/created-201", "createLead with an Idempotency-Key")
    second = api.post("/leads", body, headers={"Idempotency-Key": key})
    remember_once(kit, api, [first, second])
    if second.status != first.status:
        raise violation("/req/idempotency/replay", f"the first response's status {first.status} on the retry", second.describe(), second)
    if second.response_body != first.response_body:
        differing = sorted(k for k in set(first.response_body) | set(second.response_body or {})
                           if first.response_body.get(k) != (second.response_body or {}).get(k))
        raise violation("/req/idempotency/replay", "the first response's body on the retry", f"fields differ: {differing}: {second.describe()}", second)
    leads, page = leads_with_email(kit, api, email)
    if len(leads) != 1:
        raise violation("/req/idempotency/replay", f"exactly one lead with {email} after a retry", f"{len(leads)}: {[lead.get('id') for lead in leads]}", page)


# --- /req/idempotency/key-reuse-conflict -------------------------------------------------------------


@pytest.mark.requirement("/req/idempotency/key-reuse-conflict")
def test_key_reuse_conflict(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/idempotency/key-reuse-conflict (the same key with a different request is 409 `idempotency_key_reused` and has no effect).
    Test purpose: a key bound to one request cannot be spent on another.
    Test method: 1. createLead with a key and a body with email A: 201 2. createLead with the same key and a body with
    email B 3. check 409 with the error envelope and code idempotency_key_reused 4. check the run has one lead with A
    and none with B.
    """
    pipeline = first_pipeline_id(api)
    key = idempotency_key(kit)
    email_a, email_b = unique_email(kit, "reuse-a"), unique_email(kit, "reuse-b")
    body_a = lead_body(kit, pipeline, email=email_a)
    first = api.post("/leads", body_a, headers={"Idempotency-Key": key})
    expect_created(kit, api, first, "/leads", body_a, "/req/status-codes/created-201", "createLead with an Idempotency-Key")
    second = api.post("/leads", lead_body(kit, pipeline, email=email_b), headers={"Idempotency-Key": key})
    remember_once(kit, api, [first, second])
    if second.status != 409 or error_code(second) != "idempotency_key_reused" or not has_envelope(second):
        raise violation("/req/idempotency/key-reuse-conflict", "409 idempotency_key_reused with the error envelope for the key reused with another body",
                        second.describe(), second)
    for email, count in ((email_a, 1), (email_b, 0)):
        leads, page = leads_with_email(kit, api, email)
        if len(leads) != count:
            raise violation("/req/idempotency/key-reuse-conflict", f"{count} lead(s) with {email} (the refused request has no effect)",
                            f"{len(leads)}", page)


# --- /req/idempotency/organization-scoped ------------------------------------------------------------


def _created_id(exchange: Exchange) -> str | None:
    """The id of the resource a creating call answered with (any 2xx with an id counts: the exact code is created-201's business)."""
    body = exchange.response_body
    if 200 <= exchange.status < 300 and isinstance(body, dict) and body.get("id"):
        return str(body["id"])
    return None


def _replayed(exchange: Exchange) -> bool:
    return exchange.response_headers.get("idempotent-replayed", "").strip().lower() == "true"


@pytest.mark.requirement("/req/idempotency/organization-scoped")
def test_key_scoped_to_organization(kit: KitSession, api: KitClient, api_b: KitClient) -> None:
    """Requirement: /req/idempotency/organization-scoped (the same key and body from another organization creates that organization's own resource, never the first's stored response).
    Test purpose: tenant B sending tenant A's key with the very same body gets a pipeline of its own; A's key still means A's pipeline.
    Test method: 1. as tenant A, createPipeline (its body, a name, means the same in every organization) with a fresh key
    and a body naming the run: 2xx with the pipeline 2. as tenant B, send the same key and the same body 3. expect a
    new pipeline: 2xx, another id, not marked Idempotent-Replayed, never 409 for the key 4. as tenant B, getPipeline of
    that id: 200 (it is B's) 5. as tenant A, send the key and body once more: the replay of A's first pipeline, not B's.
    """
    body = {"name": f"{kit.tag} idempotency scope"}
    key = {"Idempotency-Key": idempotency_key(kit)}
    first = api.post("/pipelines", body, headers=key)
    kit.remember_created(api, first)  # no DELETE in v1: the report lists it as left on the target
    if first.status == 403:
        pytest.skip(f"tenant A's role cannot create pipelines ({error_code(first)}): nothing to scope a key to")
    a_id = _created_id(first)
    if a_id is None:
        raise violation("/req/status-codes/created-201", "201 with the pipeline for createPipeline with an Idempotency-Key", first.describe(), first)
    theirs = api_b.post("/pipelines", body, headers=key)
    kit.remember_created(api_b, theirs)
    if theirs.status == 403 and error_code(theirs) == "insufficient_role":
        pytest.skip("tenant B's role cannot create pipelines: nothing to compare tenant A's key with")
    if theirs.status >= 500:
        raise violation("/req/responses/no-server-errors", "no 5xx for tenant B's createPipeline", theirs.describe(), theirs)
    b_id = _created_id(theirs)
    if b_id == a_id or _replayed(theirs):
        raise violation("/req/idempotency/organization-scoped",
                        "a new pipeline of tenant B's own for tenant A's key and body sent by tenant B (keys are scoped to the organization)",
                        f"tenant A's stored response, pipeline {a_id}{' (marked Idempotent-Replayed)' if _replayed(theirs) else ''}: {theirs.describe()}",
                        theirs)
    if b_id is None:
        raise violation("/req/idempotency/organization-scoped",
                        "a new pipeline of tenant B's own for tenant A's key and body sent by tenant B (keys are scoped to the organization)",
                        theirs.describe(), theirs)
    read = api_b.get(f"/pipelines/{b_id}")
    if read.status != 200:
        raise violation("/req/idempotency/organization-scoped", f"tenant B reads the pipeline {b_id} its keyed request created (200)",
                        read.describe(), read)
    again = api.post("/pipelines", body, headers=key)
    again_id = _created_id(again)
    if again_id not in (a_id, b_id):
        kit.remember_created(api, again)
    if again_id == b_id:
        raise violation("/req/idempotency/organization-scoped", f"tenant A's retry answered with A's first pipeline {a_id}",
                        f"tenant B's pipeline {b_id}: {again.describe()}", again)
    if again_id != a_id:
        raise violation("/req/idempotency/replay", f"tenant A's retry answered with A's first pipeline {a_id}", again.describe(), again)


# --- /req/idempotency/concurrent-duplicate ----------------------------------------------------------


@pytest.mark.requirement("/req/idempotency/concurrent-duplicate")
def test_concurrent_duplicate(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/idempotency/concurrent-duplicate (concurrent requests with one key have exactly one effect; the others get the first response or 409 `idempotency_request_in_progress`).
    Test purpose: a burst of retries racing each other creates one lead.
    Test method: 1. build one createLead body with a unique email and one key 2. send it from 16 threads released
    together 3. check at least one answer is 201, every 201 has the same body, and every other answer is 409
    idempotency_request_in_progress with the envelope 4. check exactly one lead of the run has that email.
    """
    email = unique_email(kit, "concurrent")
    body = lead_body(kit, first_pipeline_id(api), email=email)
    key = idempotency_key(kit)
    start = threading.Barrier(CONCURRENT)
    answers: list[Exchange | None] = [None] * CONCURRENT
    errors: list[BaseException] = []

    def send(index: int) -> None:
        try:
            start.wait(timeout=30)
            answers[index] = api.post("/leads", body, headers={"Idempotency-Key": key})
        except BaseException as exc:  # re-raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(index,), name=f"idempotency-{index}") for index in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done = [answer for answer in answers if answer is not None]
    remember_once(kit, api, done)
    if errors:
        raise errors[0]
    created = [answer for answer in done if answer.status == 201]
    if not created and not any(error_code(answer) == "idempotency_request_in_progress" for answer in done):
        expect_created(kit, api, done[0], "/leads", body, "/req/idempotency/concurrent-duplicate", "createLead with an Idempotency-Key")
    if not created:
        raise violation("/req/idempotency/concurrent-duplicate", "one of the concurrent requests answered 201",
                        "; ".join(sorted({f'{a.status} {error_code(a)}' for a in done})), done[0])
    for answer in created[1:]:
        if answer.response_body != created[0].response_body:
            first, other = created[0].response_body, answer.response_body or {}
            differing = sorted(k for k in set(first) | set(other) if first.get(k) != other.get(k))
            raise violation("/req/idempotency/concurrent-duplicate", "every 201 the first response (the same lead)",
                            f"{first.get('id')} and {other.get('id')}, fields differ: {differing}", answer)
    for answer in done:
        if answer.status != 201 and (answer.status != 409 or error_code(answer) != "idempotency_request_in_progress" or not has_envelope(answer)):
            raise violation("/req/idempotency/concurrent-duplicate", "201 (the first response) or 409 idempotency_request_in_progress",
                            answer.describe(), answer)
    leads, page = leads_with_email(kit, api, email)
    if len(leads) != 1:
        raise violation("/req/idempotency/concurrent-duplicate", f"exactly one lead from {CONCURRENT} concurrent requests with one key",
                        f"{len(leads)} leads with {email}", page)


# --- /req/idempotency/no-double-billing -------------------------------------------------------------


def _balance(api: KitClient, when: str) -> tuple[int, Exchange]:
    exchange = api.get("/stars/balance")
    if exchange.status == 403:
        pytest.skip(f"tenant A's role cannot read billing (GET /stars/balance answered 403 {error_code(exchange)})")
    body = expect_status(exchange, 200, "/req/stars/balance-compartments", f"getStarsBalance {when}")
    if not isinstance(body, dict) or not isinstance(body.get("total"), int):
        raise violation("/req/responses/schema-conformance", "a balance with an integer total", exchange.describe(), exchange)
    return int(body["total"]), exchange


def _collect(api: KitClient, path: str, params: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Every item of a list (None when the role may not read it)."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(25):
        page = api.get(path, params={**params, "limit": 200, **({"cursor": cursor} if cursor else {})})
        if page.status == 403:
            return None
        body = expect_status(page, 200, "/req/pagination/cursor-based", f"GET {path}")
        items += body["items"]
        cursor = body.get("next_cursor")
        if not cursor:
            return items
    raise violation("/req/pagination/next-cursor-null-at-end", f"the end of {path}", "next_cursor never null", page)


def _wait_for_quiet(api: KitClient) -> None:
    """Give runs of earlier tests a bounded chance to finish, so no other spending moves the wallet meanwhile."""
    deadline = time.monotonic() + QUIET_WAIT_SECONDS
    delay = 0.2
    while time.monotonic() < deadline:
        live = [api.get("/runs", params={"status": status, "limit": 1}) for status in sorted(LIVE_RUN_STATES)]
        if all(page.status == 200 and isinstance(page.response_body, dict) and not page.response_body.get("items") for page in live):
            return
        time.sleep(delay)
        delay = min(delay * 2, 2.0)


def _wait_terminal(api: KitClient, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + RUN_WAIT_SECONDS
    delay = 0.1
    while True:
        exchange = api.get(f"/runs/{run_id}")
        run = expect_status(exchange, 200, "/req/agents/invoke-creates-run", "getRun of the invoked run")
        if run.get("status") not in LIVE_RUN_STATES:
            return dict(run)
        if time.monotonic() > deadline:
            pytest.skip(f"run {run_id} still {run.get('status')} after {RUN_WAIT_SECONDS:.0f} s; its cost is not final")
        time.sleep(delay)
        delay = min(delay * 1.5, 2.0)


CAPS_FIELDS = ("organization_monthly", "agent_daily_default", "agents", "user_agent_monthly")


@contextmanager
def caps_lifted(api: KitClient, agent_id: str) -> Iterator[None]:
    """The organization's caps opened for one agent (earlier tests may have left a cap at 0), put back afterwards."""
    read = api.get("/stars/caps")
    if read.status != 200 or not isinstance(read.response_body, dict) or not all(name in read.response_body for name in CAPS_FIELDS):
        pytest.skip(f"a Stars cap blocks invoking the agent and the caps cannot be read to lift it: {read.describe()[:200]}")
    original = {name: read.response_body[name] for name in CAPS_FIELDS}
    opened = {
        "organization_monthly": None,
        "agent_daily_default": original["agent_daily_default"],
        "agents": [cap for cap in original["agents"] if cap.get("agent_id") != agent_id] + [{"agent_id": agent_id, "daily": None}],
        "user_agent_monthly": [cap for cap in original["user_agent_monthly"] if cap.get("agent_id") != agent_id],
    }
    lifted = api.put("/stars/caps", opened)
    if lifted.status != 200:
        pytest.skip(f"a Stars cap blocks invoking the agent and cannot be lifted: {lifted.describe()[:200]}")
    try:
        yield
    finally:
        restored = api.put("/stars/caps", original)
        if restored.status != 200:
            warnings.warn(f"the Stars caps could not be restored to {original}: {restored.describe()[:200]}", stacklevel=1)


def _invoke(kit: KitSession, api: KitClient, path: str, prompt: str) -> tuple[str, dict[str, Any], Exchange, Exchange]:
    """Invoke with a fresh key, then retry with the same key and body: key, body, first answer, retry."""
    key = idempotency_key(kit)
    body = {"input": {"prompt": prompt}, "metadata": {"apollospace_conformance": key}}
    first = api.post(path, body, headers={"Idempotency-Key": key})
    if first.status != 201:
        return key, body, first, first
    for _ in range(5):
        second = api.post(path, body, headers={"Idempotency-Key": key})
        if not (second.status == 409 and error_code(second) == "idempotency_request_in_progress"):
            break
        time.sleep(0.5)
    return key, body, first, second


@pytest.mark.requirement("/req/idempotency/no-double-billing")
def test_no_double_billing(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/idempotency/no-double-billing (a retried billable call with the same key never debits Stars twice).
    Test purpose: retrying invokeAgent with its key returns the same run and the wallet pays for it once.
    Test method: 1. wait (at most 30 s) for earlier runs to end, then read the Stars balance (skip when the role cannot
    read billing) 2. invoke the first agent of listAgents with a key and a marker in the run's metadata: 201 (if a cap
    left by an earlier test blocks it, lift the caps for that agent, invoke with a new key, and put the caps back at the
    end) 3. retry with the same key and body: the same run 4. wait for the run to reach a terminal state 5. check one
    run carries the marker, the ledger's debit lines of that run add up to its stars_cost once, and the balance fell
    by that cost (or by that plus what the ledger shows other runs spent meanwhile).
    """
    invoke = next((op for op in POSTS if "x-apollospace-billable" in op.definition and "{agent_id}" in op.path), None)
    if invoke is None:
        pytest.skip("the spec has no billable operation on an agent")
    _wait_for_quiet(api)
    before, _ = _balance(api, "before the invocation")
    agents = api.get("/agents", params={"limit": 1})
    listed = expect_status(agents, 200, "/req/pagination/cursor-based", "listAgents")
    if not listed.get("items"):
        pytest.skip("the organization has no agent to invoke")
    agent_id = str(listed["items"][0]["id"])
    path = invoke.path.format(agent_id=agent_id)
    prompt = f"Conformance check {kit.tag}: summarize the pipeline in one sentence."
    with ExitStack() as stack:
        key, body, first, second = _invoke(kit, api, path, prompt)
        if first.status == 409 and str(error_code(first)).startswith("stars_cap_"):
            stack.enter_context(caps_lifted(api, agent_id))
            before, _ = _balance(api, "before the invocation")
            key, body, first, second = _invoke(kit, api, path, prompt)
        if first.status == 409 and str(error_code(first)).startswith("stars_"):
            pytest.skip(f"the wallet or a cap refuses invoking the agent ({error_code(first)}); nothing to bill")
        run = expect_created(kit, api, first, path, body, "/req/agents/invoke-creates-run", "invokeAgent with an Idempotency-Key")
        run_id = str(run["id"])
        if second.status != 201 or not isinstance(second.response_body, dict) or second.response_body.get("id") != run_id:
            raise violation("/req/idempotency/no-double-billing", f"the retry answered with the first run {run_id} (201)", second.describe(), second)
        final = _wait_terminal(api, run_id)
    cost = int(final.get("stars_cost") or 0)
    after, balance_exchange = _balance(api, "after the run ended")
    runs = _collect(api, "/runs", {"agent_id": agent_id, "created_after": run["created_at"]}) or []
    marked = [r for r in runs if (r.get("metadata") or {}).get("apollospace_conformance") == key]
    if not marked:  # no run listed at all says nothing about double billing
        blocked("/req/agents/invoke-creates-run", f"the invoked run {run['id']} is not in listRuns")
    if len(marked) != 1:
        raise violation("/req/idempotency/no-double-billing", "one run for the invocation and its retry",
                        f"{len(marked)} runs carry the key's marker: {[r.get('id') for r in marked]}", second)
    ledger = _collect(api, "/stars/transactions", {"created_after": run["created_at"]})
    others = 0
    if ledger is not None:
        ours = [line for line in ledger if line.get("run_id") == run_id and line.get("type") == "debit"]
        debited = -sum(int(line.get("amount") or 0) for line in ours)
        if debited > cost:
            raise violation("/req/idempotency/no-double-billing", f"the run's debit lines add up to its stars_cost {cost}",
                            f"{len(ours)} debit lines add up to {debited}", balance_exchange)
        if debited < cost:
            raise violation("/req/stars/debit-with-ledger", f"the run's debit lines add up to its stars_cost {cost}",
                            f"{len(ours)} debit lines add up to {debited}", balance_exchange)
        others = -sum(int(line.get("amount") or 0) for line in ledger if line.get("run_id") != run_id)
    spent = before - after
    if spent not in (cost, cost + others):
        requirement = "/req/idempotency/no-double-billing" if spent > cost else "/req/stars/debit-with-ledger"
        raise violation(requirement, f"the balance down by the run's cost {cost}" + (f" (+{others} other lines)" if others else ""),
                        f"down by {spent} (total {before} -> {after})", balance_exchange)
