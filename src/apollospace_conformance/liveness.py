"""Is the target still there? Judging a request it left unanswered.

One unanswered request (a timeout, a reset connection, bytes that are not
HTTP) is one broken answer: the calling test fails under /req/responses/timely
and the run goes on. The target is declared unreachable only when liveness
probes, cheap documented reads as tenant A, go unanswered several times in a
row: then every later request of the run fails at once (the pacer carries the
verdict) and the run ends with a partial report.

The probes rotate over the spec's list operations without path parameters, so
a server that hangs one operation is not taken for a dead one.
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx

from apollospace_conformance.checks import ContractViolation
from apollospace_conformance.http import UNANSWERED, KitClient, Pacer, TargetUnreachable
from apollospace_spec import bundled_spec, iter_operations

TIMELY = "/req/responses/timely"
PROBE_ATTEMPTS = 3  # unanswered probes in a row before the target is declared unreachable
PROBE_PAUSES = (1.0, 2.0)  # seconds to wait before the second and the third attempt
PROBE_TIMEOUT_SECONDS = 5.0  # a probe is a cheap read: it gets less than the documented time (never more)
_DOCUMENTED_TIME = re.compile(r"answered within (\d+(?:\.\d+)?) seconds")


def documented_timeout(document: dict[str, Any] | None = None) -> float:
    """The response time the spec's info.description promises ("every call is answered within 15 seconds")."""
    description = (document or bundled_spec())["info"].get("description", "")
    found = _DOCUMENTED_TIME.search(" ".join(description.split()))
    if found is None:
        raise ValueError("the spec's info.description states no response time ('answered within N seconds')")
    return float(found.group(1))


@functools.cache
def probe_paths() -> tuple[tuple[str, bool], ...]:
    """The documented reads a probe may send: (path, has a `limit` parameter), list operations first, in path order."""
    document = bundled_spec()
    reads = [op for op in iter_operations(document) if op.method == "get" and "{" not in op.path]
    reads.sort(key=lambda op: (not op.is_list, op.path))
    return tuple((op.path, any(p["in"] == "query" and p["name"] == "limit" for p in op.parameters(document))) for op in reads)


@dataclass(frozen=True)
class Target:
    """What a probe needs: where the target is, tenant A's headers, the run's timeout and pacer."""

    base_url: str
    headers: dict[str, str]
    timeout: float
    pacer: Pacer | None = None
    kit: Any = None  # the run's KitSession, when there is one: unanswered requests are recorded in its observations


def target_of(source: Any) -> Target:
    """The Target of a KitClient or a KitSession (a client of the active run gets that run's tenant A)."""
    from apollospace_conformance import runtime

    if isinstance(source, KitClient):
        run = runtime.active()
        kit = run.state if run is not None and run.state.pacer is source.pacer else None
        identity = kit.tenant_a if kit is not None else source
        return Target(source.base_url, identity.identity_headers(), source.timeout, source.pacer, kit)
    return Target(source.settings.url.rstrip("/"), source.tenant_a.identity_headers(), source.settings.timeout, source.pacer, source)


def probe(target: Target, avoid: str = "") -> tuple[httpx.Response | None, str]:
    """Send up to PROBE_ATTEMPTS cheap reads, each to the next documented list; the first answer (any status), or None and why."""
    paths = [item for item in probe_paths() if f"{target.base_url}{item[0]}" != avoid.split("?", 1)[0]] or list(probe_paths())
    why = ""
    for attempt in range(PROBE_ATTEMPTS):
        if attempt:
            time.sleep(PROBE_PAUSES[min(attempt, len(PROBE_PAUSES)) - 1])
        path, has_limit = paths[attempt % len(paths)]
        try:
            # A fresh connection each time: a pooled one may be the very socket the target stopped answering on.
            with httpx.Client(timeout=min(PROBE_TIMEOUT_SECONDS, target.timeout)) as client:
                return client.get(f"{target.base_url}{path}", params={"limit": 1} if has_limit else None, headers=target.headers), ""
        except UNANSWERED as exc:
            why = f"GET {path}: {describe(exc, min(PROBE_TIMEOUT_SECONDS, target.timeout))}"
    return None, why


def describe(exc: BaseException, timeout: float) -> str:
    """What the target did instead of answering, in words (httpx and requests exceptions alike)."""
    name, text = type(exc).__name__, " ".join(str(exc).split())[:200]
    if "Timeout" in name or isinstance(exc, TimeoutError):
        what = f"no complete answer within {timeout:g} s"
    elif any(mark in name + text for mark in ("Protocol", "BadStatusLine", "Decoding", "ChunkedEncoding", "InvalidHeader", "LineTooLong")):
        what = "bytes that are not a well-formed HTTP response"
    elif "refused" in text.lower():
        what = "the connection was refused"
    else:
        what = "the connection was closed or reset before a complete answer"
    return f"{what} ({name}: {text})" if text and text != name else f"{what} ({name})"


def judge_unanswered(source: Any, method: str, url: str, exc: BaseException, reproduction: str | None = None) -> ContractViolation:
    """Judge one request the target left without a complete HTTP answer.

    `source` is the KitClient that sent it or the run's KitSession. Raises
    TargetUnreachable when the liveness probes that follow go unanswered too;
    otherwise returns the /req/responses/timely violation for the caller to
    raise (it is also recorded in the run's observations, so it is reported
    even where a test swallows it).
    """
    target = target_of(source)
    what = describe(exc, target.timeout)
    answer, why = probe(target, avoid=url)
    if answer is None:
        verdict = (f"{method} {url.split('?', 1)[0]} got {what}, and {PROBE_ATTEMPTS} liveness probes in a row got no answer either "
                   f"(last: {why})")
        if target.pacer is not None:
            target.pacer.unreachable = verdict
        raise TargetUnreachable(verdict)
    broken = ContractViolation(TIMELY, f"a complete HTTP answer within {target.timeout:g} s",
                               f"{method} {url} got {what}; the target answered a probe right after (GET {answer.request.url.path} -> {answer.status_code})",
                               reproduction)
    kit = target.kit
    if kit is not None:
        kit.activity.broken.add(TIMELY)
        recorded = kit.observations.violations[TIMELY]
        if len(recorded) < 5:
            recorded.append(broken)
    return broken
