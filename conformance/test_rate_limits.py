"""Rate limits per organization and operation type (conformance class `rate-limits`).

`/req/rate-limits/429-retry-after` is checked passively on every 429 the run
sees (test_observed). The probe here provokes 429s on purpose, as tenant B
only, so tenant A's traffic and the rest of the run are untouched: it runs
after every other behaviour test (the plugin orders node ids containing
"rate_limit_probe" last, before test_observed) and only with
--rate-limit-probe, since it spends up to --probe-max-requests of tenant B's
quota and waits out one Retry-After. One module fixture gathers everything;
the tests judge it, so each requirement fails only on its own evidence.

The probe floods one operation type of tenant B at a time (the spec's
`x-apollospace-rate-class`), first its billable operation, then its reads.
At the first 429 it releases requests armed in advance: tenant B's requests
of the other types, and for the reads tenant A's reads too. The flood goes on
until they are all answered, so a bucket shared with the flooded type stays
empty while they arrive, however slow the machine. Armed requests, not one
request sent afterwards: a shared token bucket refills between the 429 and a
late request (at 3000 a minute, one token every 20 ms), so a single request
succeeds on a slow machine even when the types or the organizations share a
limit. Then it waits the longest Retry-After the read flood was told, counted
from its end, and reads once more: an honest Retry-After lets that read in.

Each flood is sized to the limit it aims at, not a fixed burst: the budget
the partner states (--rate-limits), else the one the spec documents
(x-apollospace-rate-limits), else the one the target announces in a
RateLimit-Limit header. It stops once it has sent that limit, plus what the
bucket refilled meanwhile, plus a margin, without a 429 (NOT EXERCISED, with
the numbers); --probe-max-requests stays the ceiling.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from apollospace_conformance import runtime
from apollospace_conformance.checks import violation
from apollospace_conformance.evidence import not_exercised
from apollospace_conformance.http import Exchange, KitClient
from apollospace_conformance.session import KitSession
from apollospace_spec.model import Operation, resolve

from ._requests import documented_body_example, error_code, has_envelope, random_uuid4

_run = runtime.require()
_SPEC = _run.state.spec
RATE_CLASS = "x-apollospace-rate-class"
PROBE_OPERATION = "listAgents"  # a read every role may call, cheap for the server
PROBE_WORKERS = 32  # parallel connections: the shorter the burst, the less likely a fixed window resets during it
ISOLATION_BURST = 32  # tenant A's parallel reads armed for tenant B's first read 429
OTHER_TYPE_BURST = 4  # tenant B's requests of each other type armed for its first 429: few, a type's limit may be low
BILLABLE_SHARE = 5  # the billable flood may spend at most 1/5 of --probe-max-requests, so the read flood keeps the rest
OBSERVED_ORDINARY = 16  # answers of a flood that pass the limiter sent to the passive checks (every other answer is)
MAX_RETRY_WAIT = 65.0
RETRY_GRACE = 0.25  # seconds past the stated Retry-After before the retry: timer and clock granularity, not leniency
EXERCISE_PROBE = "pass --rate-limit-probe"
LIMITS_EXTENSION = "x-apollospace-rate-limits"
OVER_LIMIT_MARGIN = 1.1  # past a known limit (and its refill), the flood sends this much more before it gives up on a 429
OVER_LIMIT_SLACK = 64  # requests in flight when the limit is reached, and clock granularity
LIMIT_HEADERS = ("ratelimit-limit", "x-ratelimit-limit")


# --- the limits the probe aims at ----------------------------------------------------------------


@dataclass(frozen=True)
class KnownLimit:
    """A limit of one operation type: `requests` per `window` seconds, and where the kit learnt it."""

    requests: int
    window: float
    source: str

    def allowance(self, elapsed: float) -> int:
        """How many requests a flood may send within `elapsed` seconds before a 429 is due: the budget, its refill, a margin."""
        return int((self.requests + self.requests * elapsed / self.window) * OVER_LIMIT_MARGIN) + OVER_LIMIT_SLACK

    def __str__(self) -> str:
        return f"{self.requests} per {self.window:g} s ({self.source})"


def known_limit(kit: KitSession, rate_class: str, seen: Exchange | None = None) -> KnownLimit | None:
    """The limit of `rate_class`: stated by the partner, else documented by the spec, else announced by the target."""
    stated = kit.settings.documented_limits.get(rate_class)
    documented = ((_SPEC.document.get(LIMITS_EXTENSION) or {}).get("limits") or {}).get(rate_class) or {}
    if stated is not None:
        return KnownLimit(stated, float(documented.get("window_seconds") or 60), "--rate-limits")
    if isinstance(documented.get("requests"), int) and documented.get("window_seconds"):
        return KnownLimit(documented["requests"], float(documented["window_seconds"]), f"the spec's {LIMITS_EXTENSION}")
    for name in LIMIT_HEADERS:
        value = (seen.response_headers.get(name, "") if seen is not None else "").split(";")[0].split(",")[0].strip()
        if value.isdigit() and int(value) > 0:
            return KnownLimit(int(value), 60.0, f"the target's {name} header")
    return None


# --- requests of one operation type that change nothing ---------------------------------------


@dataclass(frozen=True)
class TypedRequest:
    """One request of one operation type (rate class) that changes nothing on the server."""

    rate_class: str
    operation: Operation
    path: str
    params: dict[str, Any] | None = None
    body: Any = None

    def send(self, client: KitClient) -> Exchange:
        method = self.operation.method.upper()
        return client.request(method, self.path, params=self.params, json_body=self.body, honor_retry_after=False)

    def ordinary(self, exchange: Exchange) -> bool:
        """The answer expected below the limit: 200 for the read, anything but 429 or a server error for a no-op write."""
        if self.operation.method == "get":
            return exchange.status == 200
        return exchange.status != 429 and exchange.status < 500

    @property
    def label(self) -> str:
        return f"{self.operation.operation_id} ({self.rate_class})"


def _operation(operation_id: str) -> Operation | None:
    return next((op for op in _SPEC.operations if op.operation_id == operation_id), None)


def _read_request() -> TypedRequest | None:
    op = _operation(PROBE_OPERATION)
    if op is None or op.definition.get(RATE_CLASS) != "read":
        return None
    return TypedRequest("read", op, op.path, params={"limit": 1})


def _no_op_request(kit: KitSession, rate_class: str) -> TypedRequest | None:
    """A POST of the rate class the spec documents a 404 for under a path id: sent for random ids, it changes nothing.

    Operations without a required body come first; otherwise the spec's example body is sent.
    """
    candidates = []
    for op in _SPEC.operations:
        path_params = [p for p in op.parameters(_SPEC.document) if p["in"] == "path"]
        if op.method != "post" or op.definition.get(RATE_CLASS) != rate_class or not path_params \
                or not any(int(e["status"]) == 404 for e in op.error_codes):
            continue
        required = bool(resolve(_SPEC.document, op.definition.get("requestBody", {})).get("required"))
        body = documented_body_example(kit, op) if required else None
        if required and body is None:
            continue
        candidates.append((required, op, path_params, body))
    if not candidates:
        return None
    _, op, path_params, body = min(candidates, key=lambda found: found[0])
    ids = {p["name"]: random_uuid4(kit) for p in path_params}
    return TypedRequest(rate_class, op, op.path.format(**ids), body=body)


def retry_after(exchange: Exchange) -> int | None:
    value = exchange.response_headers.get("retry-after", "").strip()
    return int(value) if value.isdigit() else None


class SampledObserver:
    """Sends a flood's answers to the passive checks: every unusual one, and only the first few ordinary ones.

    Thousands of identical 200s add no evidence, but checking each one costs
    the client the CPU the server under test needs to answer the flood.
    """

    def __init__(self, observe: Callable[[Exchange], None] | None, request: TypedRequest) -> None:
        self._observe = observe
        self._request = request
        self._ordinary = 0
        self._lock = threading.Lock()

    def __call__(self, exchange: Exchange) -> None:
        if self._observe is None:
            return
        if self._request.ordinary(exchange):
            with self._lock:
                self._ordinary += 1
                if self._ordinary > OBSERVED_ORDINARY:
                    return
        self._observe(exchange)


# --- armed requests and the flood ------------------------------------------------------------


class Armed:
    """`count` copies of one request, one connection each, armed ahead and released together by `fire()`.

    Clients and threads are built before the moment that matters: building an
    HTTP client takes tens of milliseconds on a loaded machine, long enough for
    a shared bucket to refill, so `fire()` only releases requests.
    """

    def __init__(self, who: str, client: KitClient, request: TypedRequest, count: int) -> None:
        self.who = who
        self.request = request
        self.answered = threading.Event()  # set once every request is back (or failed)
        self._go = threading.Event()
        self._cancelled = False
        self._lock = threading.Lock()
        self._pending = count
        self._answers: list[Exchange] = []
        self._errors: list[BaseException] = []
        self._threads = [threading.Thread(target=self._send, args=(client.with_identity(),), name=f"rate-limit-armed-{n}") for n in range(count)]
        for thread in self._threads:
            thread.start()

    def _send(self, own: KitClient) -> None:
        try:
            self._go.wait()
            if not self._cancelled:
                answer = self.request.send(own)
                with self._lock:
                    self._answers.append(answer)
        except BaseException as exc:  # re-raised by collect()
            self._errors.append(exc)
        finally:
            own.close()
            with self._lock:
                self._pending -= 1
                if self._pending == 0:
                    self.answered.set()

    def fire(self) -> None:
        self._go.set()

    def cancel(self) -> None:
        """Release the threads without sending anything."""
        self._cancelled = True
        self._go.set()
        self._join()

    def collect(self) -> list[Exchange]:
        """The answers, once every request is back."""
        self._join()
        if self._errors:
            raise self._errors[0]
        return list(self._answers)

    def _join(self) -> None:
        for thread in self._threads:
            thread.join()


@dataclass
class Flood:
    """One operation type of tenant B sent to its first 429, and the armed requests released at that moment."""

    request: TypedRequest
    sent_before_limit: int  # requests sent up to the first 429, included
    sent: int  # every request of the flood, those after the first 429 included
    first_limited: Exchange | None
    limited: int  # how many 429s the flood got
    longest_wait: int | None  # the longest Retry-After of those 429s (None when one had none)
    ended_at: float  # time.monotonic() once every request of the flood was answered
    odd: list[Exchange]
    armed: dict[str, list[Exchange]] = field(default_factory=dict)  # who -> the armed answers

    def refused(self, who: str) -> list[Exchange]:
        return [answer for answer in self.armed.get(who, []) if answer.status == 429]


def flood(client: KitClient, request: TypedRequest, budget: int, armed: list[Armed], limit: KnownLimit | None = None) -> Flood:
    """Send `request` from PROBE_WORKERS connections until the first 429, `budget` requests, or past a known `limit`.

    The first 429 fires every armed group; the flood then goes on (still
    within `budget`) until all of them are answered, so a bucket they share
    with the flooded type cannot refill meanwhile. An unusual answer stops it.
    """
    lock = threading.Lock()
    stop = threading.Event()
    state: dict[str, Any] = {"sent": 0, "before": 0, "limited": 0, "first": None, "longest": 0, "unstated": False}
    odd: list[Exchange] = []
    errors: list[BaseException] = []

    started = time.monotonic()

    def done() -> bool:
        if state["first"] is None and limit is not None and state["sent"] >= limit.allowance(time.monotonic() - started):
            return True  # well past the known limit and its refill: no 429 is coming
        return stop.is_set() or state["sent"] >= budget or (state["first"] is not None and all(group.answered.is_set() for group in armed))

    def worker() -> None:
        own = client.with_identity()  # one connection each: a shared pool would serialize the burst
        own.observer = observer
        try:
            while True:
                with lock:
                    if done():
                        return
                    state["sent"] += 1
                answer = request.send(own)
                if answer.status == 429:
                    wait = retry_after(answer)
                    with lock:
                        first = state["first"] is None
                        if first:
                            state["first"], state["before"] = answer, state["sent"]
                        state["limited"] += 1
                        state["longest"] = max(state["longest"], wait or 0)
                        state["unstated"] |= wait is None
                    if first:
                        for group in armed:
                            group.fire()
                elif not request.ordinary(answer):
                    with lock:
                        odd.append(answer)
                    stop.set()
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)
            stop.set()
        finally:
            own.close()

    observer = SampledObserver(client.observer, request)
    threads = [threading.Thread(target=worker, name=f"rate-limit-flood-{n}") for n in range(PROBE_WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ended_at = time.monotonic()
    if state["first"] is None:
        for group in armed:
            group.cancel()
    answers = {group.who: group.collect() for group in armed} if state["first"] is not None else {}
    if errors:
        raise errors[0]
    return Flood(request, state["before"] or state["sent"], state["sent"], state["first"], state["limited"],
                 None if state["unstated"] else state["longest"], ended_at, odd, answers)


def _read_until_allowed(client: KitClient, request: TypedRequest, who: str) -> Exchange:
    """One request let through, waiting out at most one Retry-After of the client's own earlier traffic."""
    answer = request.send(client)
    if answer.status == 429 and (wait := retry_after(answer)) is not None and wait <= MAX_RETRY_WAIT:
        time.sleep(wait + RETRY_GRACE)
        answer = request.send(client)
    if not request.ordinary(answer):
        pytest.skip(f"{who}'s {request.label} is not let through before the probe: {answer.describe()[:200]}")
    return answer


def _stop_on_odd(result: Flood) -> None:
    """An answer that is neither the ordinary one nor 429 is a violation of its own: report it, judge nothing else."""
    if result.odd:
        first = result.odd[0]
        requirement = "/req/responses/no-server-errors" if first.status >= 500 else "/req/rate-limits/429-retry-after"
        raise violation(requirement, f"the ordinary answer, or 429 once over the limit, for tenant B's flood of {result.request.label}",
                        first.describe(), first)


# --- the probe ---------------------------------------------------------------------------------


@dataclass
class Probe:
    """What the probe gathered: each flood, or why it could not be sent or never met a 429."""

    read: Flood | None = None
    read_missing: str = ""
    billable: Flood | None = None  # sent even when it met no 429: its unusual answers are reported by its test
    billable_missing: str = ""
    billable_how: str = ""


def _billable_flood(kit: KitSession, api_b: KitClient, read: TypedRequest, found: Probe) -> None:
    """Flood tenant B's billable operation (a random id: nothing is invoked) with its reads and writes armed."""
    settings = kit.settings
    billable, write = _no_op_request(kit, "billable"), _no_op_request(kit, "write")
    if billable is None:
        found.billable_missing = "the spec has no billable operation with a path id and a documented 404 to send harmlessly"
        found.billable_how = "a billable POST under a path id that documents 404"
        return
    armed = [Armed("tenant B's reads", api_b, read, OTHER_TYPE_BURST)]
    if write is not None:
        armed.append(Armed("tenant B's writes", api_b, write, OTHER_TYPE_BURST))
    limit = known_limit(kit, "billable")
    found.billable = result = flood(api_b, billable, settings.probe_max_requests // BILLABLE_SHARE, armed, limit)
    if result.first_limited is None and not result.odd:
        found.billable_missing = f"no 429 after {result.sent} requests of {billable.label} by tenant B" + (f", past its limit of {limit}" if limit else "")
        found.billable_how = (f"a billable limit within a fifth of --probe-max-requests (now {settings.probe_max_requests}): raise it"
                              + ("; or state the real limits with --rate-limits" if limit else ""))


@pytest.fixture(scope="module")
def probe(kit: KitSession, api: KitClient, request: pytest.FixtureRequest) -> Probe:
    """Flood tenant B's billable operation, then its reads, each to its first 429 with the other types armed (judged by the tests)."""
    settings = kit.settings
    if not settings.rate_limit_probe:
        not_exercised("the rate-limit probe is off, so no request was sent over a limit", EXERCISE_PROBE)
    api_b: KitClient = request.getfixturevalue("api_b")
    read = _read_request()
    if read is None:
        pytest.skip(f"the spec has no read operation {PROBE_OPERATION} to probe")
    _read_until_allowed(api, read, "tenant A")
    first_read = _read_until_allowed(api_b, read, "tenant B")
    found = Probe()
    _billable_flood(kit, api_b, read, found)
    budget = settings.probe_max_requests - (found.billable.sent if found.billable else 0)
    armed = [Armed("tenant A's reads", api, read, ISOLATION_BURST)]
    if (write := _no_op_request(kit, "write")) is not None:
        armed.append(Armed("tenant B's writes", api_b, write, OTHER_TYPE_BURST))
    limit = known_limit(kit, "read", first_read)
    found.read = flood(api_b, read, budget, armed, limit)
    _stop_on_odd(found.read)
    if found.read.first_limited is None:
        found.read_missing = f"no 429 after {found.read.sent} reads of {PROBE_OPERATION} by tenant B" + (f", past its limit of {limit}" if limit else "")
        found.read = None
    return found


def _read_flood(probe: Probe) -> Flood:
    if probe.read is None:
        not_exercised(probe.read_missing, f"a read limit within --probe-max-requests (now {_run.state.settings.probe_max_requests}): raise it")
    return probe.read


@pytest.mark.requirement("/req/rate-limits/429-retry-after")
def test_rate_limit_probe(probe: Probe) -> None:
    """Requirement: /req/rate-limits/429-retry-after (a call over the limit is 429 with a Retry-After header in seconds and the error envelope).
    Test purpose: tenant B's flood of reads reaches its limit and is told how long to wait.
    Test method: 1. not exercised unless --rate-limit-probe 2. check one read each of tenant A and tenant B is answered 200
    3. as tenant B, GET listAgents (limit 1) from 32 connections until the first 429, within --probe-max-requests
    (not exercised, with the count, if none comes) 4. check it is 429 with Retry-After in whole seconds and the error
    envelope with code rate_limited.
    """
    limited = _read_flood(probe).first_limited
    assert limited is not None
    if retry_after(limited) is None:
        raise violation("/req/rate-limits/429-retry-after", "a Retry-After header in whole seconds on the 429",
                        repr(limited.response_headers.get("retry-after")), limited)
    if not has_envelope(limited) or error_code(limited) != "rate_limited":
        raise violation("/req/rate-limits/429-retry-after", "the error envelope with code rate_limited on the 429", limited.describe(), limited)


@pytest.mark.requirement("/req/rate-limits/per-organization-and-type")
def test_rate_limit_probe_organizations(probe: Probe) -> None:
    """Requirement: /req/rate-limits/per-organization-and-type (one organization's traffic does not limit another's).
    Test purpose: while tenant B's reads are limited, tenant A's reads go on.
    Test method: 1. the moment tenant B's first read 429 arrives (test_rate_limit_probe's flood, which goes on meanwhile),
    GET the same operation as tenant A from 32 connections armed in advance 2. expect 200 for all 32 (for at least a
    quarter of what B sent before its 429, when that is fewer).
    """
    read = _read_flood(probe)
    reads = read.armed.get("tenant A's reads", [])
    served = sum(1 for answer in reads if answer.status == 200)
    # A server whose read limit is low owes A fewer reads: a quarter of what B got through before its 429.
    owed = max(1, min(len(reads), read.sent_before_limit // 4))
    if served < owed:
        refused = next(answer for answer in reads if answer.status != 200)
        raise violation("/req/rate-limits/per-organization-and-type",
                        f"at least {owed} of tenant A's {len(reads)} parallel reads answered 200 while tenant B is "
                        f"limited after {read.sent_before_limit} reads (limits count per organization)",
                        f"{served} answered 200; first refusal: {refused.describe()}", refused)


def _other_types_not_limited(flooded: Flood) -> None:
    """No armed request of another type of tenant B was refused 429 while the flooded type was limited."""
    for who, answers in flooded.armed.items():
        refused = flooded.refused(who) if who.startswith("tenant B") else []
        if refused:
            raise violation("/req/rate-limits/per-organization-and-type",
                            f"{who} not limited while its {flooded.request.label} calls are, after {flooded.sent_before_limit} of them "
                            "(limits count per operation type)",
                            f"{len(refused)} of {len(answers)} answered 429; first: {refused[0].describe()}", refused[0])


@pytest.mark.requirement("/req/rate-limits/per-organization-and-type")
def test_rate_limit_probe_types(probe: Probe) -> None:
    """Requirement: /req/rate-limits/per-organization-and-type (limits count per operation type).
    Test purpose: while tenant B's reads are limited, its writes go on.
    Test method: 1. the moment tenant B's first read 429 arrives (test_rate_limit_probe's flood, which goes on until they
    are answered), send 4 writes of tenant B armed in advance: a POST the spec documents a 404 for, with random ids (it
    changes nothing) 2. expect none of them answered 429.
    """
    read = _read_flood(probe)
    if not read.armed.get("tenant B's writes"):
        not_exercised("the spec has no write with a path id and a documented 404 to send harmlessly", "a write POST under a path id that documents 404")
    _other_types_not_limited(read)


@pytest.mark.requirement("/req/rate-limits/per-organization-and-type")
def test_rate_limit_probe_billable_type(probe: Probe) -> None:
    """Requirement: /req/rate-limits/per-organization-and-type (limits count per operation type: read, write, billable).
    Test purpose: while tenant B's billable calls are limited, its reads and writes go on.
    Test method: 1. as tenant B, POST the spec's billable operation (invokeAgent) for a random agent id, with the spec's
    example body (it invokes nothing), from 32 connections until the first 429, within a fifth of --probe-max-requests
    (not exercised, with the count, if none comes) 2. at that moment release 4 reads and 4 writes of tenant B armed in
    advance, while the flood goes on until they are answered 3. expect none of them answered 429.
    """
    if probe.billable is not None:
        _stop_on_odd(probe.billable)
    if probe.billable is None or probe.billable.first_limited is None:
        not_exercised(probe.billable_missing, probe.billable_how)
    _other_types_not_limited(probe.billable)


@pytest.mark.requirement("/req/rate-limits/429-retry-after")
def test_rate_limit_probe_recovery(probe: Probe, request: pytest.FixtureRequest) -> None:
    """Requirement: /req/rate-limits/429-retry-after (Retry-After says, in seconds, when to retry).
    Test purpose: Retry-After is honest: a client that waits what it said is served again (waiting less may work too).
    Test method: 1. take the longest Retry-After of tenant B's read 429s (test_rate_limit_probe's flood; not exercised
    when it is more than 65 s) 2. wait that many seconds (plus 0.25 s) from the moment the flood's last answer arrived,
    sending nothing meanwhile 3. GET the same operation as tenant B: expect 200.
    """
    read = _read_flood(probe)
    wait = read.longest_wait
    if wait is None:
        not_exercised("a 429 of the flood said no Retry-After to wait (test_rate_limit_probe reports it)", "a Retry-After on every 429")
    if wait > MAX_RETRY_WAIT:
        not_exercised(f"Retry-After is {wait} s, longer than the {MAX_RETRY_WAIT:.0f} s the kit waits", f"a Retry-After of at most {MAX_RETRY_WAIT:.0f} s")
    time.sleep(max(0.0, read.ended_at + wait + RETRY_GRACE - time.monotonic()))
    api_b: KitClient = request.getfixturevalue("api_b")
    again = read.request.send(api_b)
    if again.status != 200:
        stated = retry_after(again)
        raise violation("/req/rate-limits/429-retry-after",
                        f"tenant B's read accepted after waiting the Retry-After it was given ({wait} s, the longest of {read.limited} 429s)",
                        f"{again.status} after {time.monotonic() - read.ended_at:.2f} s"
                        + (f", again with Retry-After: {stated}" if stated is not None else "") + f": {again.describe()}", again)
