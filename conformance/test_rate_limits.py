"""Rate limits per organization and operation type (conformance class `rate-limits`).

`/req/rate-limits/429-retry-after` is checked passively on every 429 the run
sees (test_observed). The probe here provokes one on purpose, as tenant B only,
so tenant A's traffic and the rest of the run are untouched: it runs after every
other behaviour test (the plugin orders node ids containing "rate_limit_probe"
last, before test_observed) and only with --rate-limit-probe, since it spends up
to --probe-max-requests reads of tenant B's quota and waits out its Retry-After.
One module fixture sends the burst and, right after the first 429, a parallel
burst of tenant A's reads and one write of tenant B; three tests judge what it
gathered, so each requirement fails only on its own evidence.

Tenant A's evidence is a burst, not one read: a shared token bucket refills
between B's 429 and A's request (at 3000 a minute, one token every 20 ms), so a
single read succeeds on a slow machine even when the organizations share a
limit. ISOLATION_BURST parallel reads, armed before B's burst and released by
its first 429, need that many tokens at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from apollospace_conformance import runtime
from apollospace_conformance.checks import violation
from apollospace_conformance.http import Exchange, KitClient
from apollospace_conformance.session import KitSession
from ._requests import error_code, has_envelope, random_uuid4
from apollospace_spec.model import Operation

_run = runtime.require()
_SPEC = _run.state.spec
RATE_CLASS = "x-apollospace-rate-class"
PROBE_OPERATION = "listAgents"  # a read every role may call, cheap for the server
PROBE_WORKERS = 32  # parallel connections: the shorter the burst, the less likely a fixed window resets during it
ISOLATION_BURST = 32  # tenant A's parallel reads right after tenant B's 429
MAX_RETRY_WAIT = 65.0


def _operation(operation_id: str) -> Operation | None:
    return next((op for op in _SPEC.operations if op.operation_id == operation_id), None)


def _write_probe() -> Operation | None:
    """A write the spec documents a 404 for under a path id: sent for a random id, it changes nothing."""
    for op in _SPEC.operations:
        path_params = [p for p in op.parameters(_SPEC.document) if p["in"] == "path"]
        if op.method == "post" and op.definition.get(RATE_CLASS) == "write" and path_params and not op.definition.get("requestBody", {}).get("required") \
                and any(int(e["status"]) == 404 for e in op.error_codes):
            return op
    return None


def retry_after(exchange: Exchange) -> int | None:
    value = exchange.response_headers.get("retry-after", "").strip()
    return int(value) if value.isdigit() else None


def burst(client: KitClient, path: str, budget: int, on_limited: Callable[[], None] = lambda: None) -> tuple[Exchange | None, int, list[Exchange]]:
    """GET `path` (limit 1) from a few threads until the first 429 or `budget` requests: the 429, the count, odd answers.

    `on_limited` runs in the worker that receives the first 429, before anything else happens.
    """
    lock = threading.Lock()
    stop = threading.Event()
    state = {"sent": 0}
    limited: list[Exchange] = []
    odd: list[Exchange] = []
    errors: list[BaseException] = []

    def worker() -> None:
        own = client.with_identity()  # one connection each: a shared pool would serialize the burst
        try:
            while not stop.is_set():
                with lock:
                    if state["sent"] >= budget:
                        return
                    state["sent"] += 1
                answer = own.get(path, params={"limit": 1}, honor_retry_after=False)
                if answer.status == 429:
                    with lock:
                        first = not limited
                        limited.append(answer)
                    if first:
                        on_limited()
                    stop.set()
                elif answer.status != 200:
                    with lock:
                        odd.append(answer)
                    stop.set()
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)
            stop.set()
        finally:
            own.close()

    threads = [threading.Thread(target=worker, name=f"rate-limit-probe-{n}") for n in range(PROBE_WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return (limited[0] if limited else None), state["sent"], odd


class StandbyReads:
    """`count` GETs of `path` (limit 1), one connection each, armed ahead and released together by `fire()`.

    Clients and threads are built before the moment that matters: building an
    HTTP client takes tens of milliseconds on a loaded machine, long enough for
    a shared bucket to refill, so `fire()` only releases requests.
    """

    def __init__(self, client: KitClient, path: str, count: int) -> None:
        self.path = path
        self._go = threading.Event()
        self._cancelled = False
        self._lock = threading.Lock()
        self._answers: list[Exchange] = []
        self._errors: list[BaseException] = []
        self._threads = [threading.Thread(target=self._send, args=(client.with_identity(),), name=f"rate-limit-standby-{n}")
                         for n in range(count)]
        for thread in self._threads:
            thread.start()

    def _send(self, own: KitClient) -> None:
        try:
            self._go.wait()
            if not self._cancelled:
                answer = own.get(self.path, params={"limit": 1}, honor_retry_after=False)
                with self._lock:
                    self._answers.append(answer)
        except BaseException as exc:  # re-raised by collect()
            self._errors.append(exc)
        finally:
            own.close()

    def fire(self) -> None:
        self._go.set()

    def cancel(self) -> None:
        """Release the threads without sending anything."""
        self._cancelled = True
        self._go.set()
        self._join()

    def collect(self) -> list[Exchange]:
        """The answers, once every request is back (fires first if nobody did)."""
        self._go.set()
        self._join()
        if self._errors:
            raise self._errors[0]
        return list(self._answers)

    def _join(self) -> None:
        for thread in self._threads:
            thread.join()


def _read_until_allowed(client: KitClient, path: str, who: str) -> Exchange:
    """One read that succeeds, waiting out at most one Retry-After of the client's own earlier traffic."""
    answer = client.get(path, params={"limit": 1}, honor_retry_after=False)
    if answer.status == 429 and (wait := retry_after(answer)) is not None and wait <= MAX_RETRY_WAIT:
        time.sleep(wait + 0.5)
        answer = client.get(path, params={"limit": 1}, honor_retry_after=False)
    if answer.status != 200:
        pytest.skip(f"{who}'s read is not answered 200 before the probe: {answer.describe()[:200]}")
    return answer


@dataclass
class Probe:
    """What the burst gathered: the first 429, and tenant A's read and tenant B's write sent right after it."""

    operation: Operation
    sent: int
    limited: Exchange
    limited_at: float  # time.monotonic() when the 429 arrived
    other_organization: list[Exchange]  # tenant A's parallel burst
    other_type: Exchange | None
    write: Operation | None


@pytest.fixture(scope="module")
def probe(kit: KitSession, api: KitClient, request: pytest.FixtureRequest) -> Probe:
    """Burst tenant B's reads to the first 429, then at once read as tenant A and write as tenant B (judged by the tests)."""
    settings = kit.settings
    if not settings.rate_limit_probe:
        pytest.skip("rate-limit probe not enabled (--rate-limit-probe)")
    api_b: KitClient = request.getfixturevalue("api_b")
    op = _operation(PROBE_OPERATION)
    if op is None or op.definition.get(RATE_CLASS) != "read":
        pytest.skip(f"the spec has no read operation {PROBE_OPERATION} to probe")
    _read_until_allowed(api, op.path, "tenant A")
    _read_until_allowed(api_b, op.path, "tenant B")
    standby = StandbyReads(api, op.path, ISOLATION_BURST)  # tenant A's reads, released by B's first 429
    try:
        limited, sent, odd = burst(api_b, op.path, settings.probe_max_requests, on_limited=standby.fire)
    except BaseException:
        standby.cancel()
        raise
    if odd or limited is None:
        standby.cancel()
    if odd:
        requirement = "/req/responses/no-server-errors" if odd[0].status >= 500 else "/req/rate-limits/429-retry-after"
        raise violation(requirement, f"200, or 429 once over the limit, for tenant B's burst of {op.operation_id}", odd[0].describe(), odd[0])
    if limited is None:
        pytest.skip(f"no 429 after {sent} reads of {op.operation_id} by tenant B (--probe-max-requests {settings.probe_max_requests}); "
                    "the read limit is higher, or the server does not limit reads")
    limited_at = time.monotonic()
    other_organization = standby.collect()
    write = _write_probe()
    other_type = None
    if write is not None:
        ids = {p["name"]: random_uuid4(kit) for p in write.parameters(_SPEC.document) if p["in"] == "path"}
        other_type = api_b.post(write.path.format(**ids), honor_retry_after=False)
    return Probe(op, sent, limited, limited_at, other_organization, other_type, write)


@pytest.mark.requirement("/req/rate-limits/429-retry-after")
def test_rate_limit_probe(probe: Probe) -> None:
    """Requirement: /req/rate-limits/429-retry-after (a call over the limit is 429 with a Retry-After header in seconds and the envelope).
    Test purpose: tenant B's burst of reads reaches its limit and is told how long to wait.
    Test method: 1. skip unless --rate-limit-probe 2. check one read each of tenant A and tenant B succeeds
    3. as tenant B, GET listAgents (limit 1) from 32 connections until the first 429, within --probe-max-requests
    (skip, with the count, if none comes) 4. check it is 429 with Retry-After in whole seconds and the error envelope
    with code rate_limited.
    """
    limited = probe.limited
    if retry_after(limited) is None:
        raise violation("/req/rate-limits/429-retry-after", "a Retry-After header in whole seconds on the 429",
                        repr(limited.response_headers.get("retry-after")), limited)
    if not has_envelope(limited) or error_code(limited) != "rate_limited":
        raise violation("/req/rate-limits/429-retry-after", "the error envelope with code rate_limited on the 429", limited.describe(), limited)


@pytest.mark.requirement("/req/rate-limits/per-organization-and-type")
def test_rate_limit_probe_isolation(probe: Probe) -> None:
    """Requirement: /req/rate-limits/per-organization-and-type (limits count per organization and operation type; one organization's traffic does not limit another's).
    Test purpose: while tenant B's reads are limited, tenant A's reads and tenant B's writes go on.
    Test method: 1. the moment tenant B's first 429 arrives (test_rate_limit_probe's burst), GET the same operation as
    tenant A from 32 connections armed in advance: expect 200 for all 32 (for at least a quarter of what B sent before its
    429, when that is fewer) 2. as tenant B, send a write the spec documents a 404 for, with random ids (it changes nothing): expect
    anything but 429.
    """
    served = sum(1 for answer in probe.other_organization if answer.status == 200)
    # A server whose read limit is low owes A fewer reads: a quarter of what B got through before its 429.
    owed = max(1, min(len(probe.other_organization), probe.sent // 4))
    if served < owed:
        refused = next(answer for answer in probe.other_organization if answer.status != 200)
        raise violation("/req/rate-limits/per-organization-and-type",
                        f"at least {owed} of tenant A's {len(probe.other_organization)} parallel reads answered 200 while tenant B is "
                        f"limited after {probe.sent} reads (limits count per organization)",
                        f"{served} answered 200; first refusal: {refused.describe()}", refused)
    if probe.other_type is not None and probe.write is not None and probe.other_type.status == 429:
        raise violation("/req/rate-limits/per-organization-and-type",
                        f"tenant B's write ({probe.write.operation_id}) not limited while its reads are (limits count per operation type)",
                        probe.other_type.describe(), probe.other_type)


@pytest.mark.requirement("/req/rate-limits/429-retry-after")
def test_rate_limit_probe_recovery(probe: Probe, request: pytest.FixtureRequest) -> None:
    """Requirement: /req/rate-limits/429-retry-after (Retry-After says, in seconds, when to retry).
    Test purpose: a client that waits what Retry-After said is served again.
    Test method: 1. take the Retry-After of tenant B's first 429 (test_rate_limit_probe's burst) 2. wait that many
    seconds from the 429 (skip when it is more than 65) 3. GET the same operation as tenant B: expect 200.
    """
    wait = retry_after(probe.limited)
    if wait is None:
        pytest.skip("the 429 had no Retry-After to wait (test_rate_limit_probe reports it)")
    if wait > MAX_RETRY_WAIT:
        pytest.skip(f"Retry-After is {wait} s, longer than the {MAX_RETRY_WAIT:.0f} s the kit waits")
    time.sleep(max(0.0, probe.limited_at + wait + 0.5 - time.monotonic()))
    api_b: KitClient = request.getfixturevalue("api_b")
    again = api_b.get(probe.operation.path, params={"limit": 1}, honor_retry_after=False)
    if again.status != 200:
        raise violation("/req/rate-limits/429-retry-after", f"tenant B's read accepted after waiting Retry-After ({wait} s)",
                        again.describe(), again)
