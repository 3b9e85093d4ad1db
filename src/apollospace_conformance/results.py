"""From test outcomes to requirement verdicts and the run's verdict."""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from apollospace_conformance.evidence import SAMPLES_KEPT, Evidence
from apollospace_spec import RequirementCatalog
from apollospace_spec.catalog import Requirement

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"
NOT_EXERCISED, BLOCKED, INCOMPLETE = "NOT EXERCISED", "BLOCKED", "INCOMPLETE"
STATUSES = (PASS, FAIL, NOT_EXERCISED, BLOCKED, SKIP)
_CITED = re.compile(r"\[(/req/[a-z0-9/-]+)\]")


@dataclass
class Failure:
    requirement: str
    expected: str
    received: str
    reproduction: str | None = None
    test: str = ""


@dataclass
class TestRecord:
    __test__ = False  # a record of a test, not a test

    nodeid: str
    requirements: list[str]
    outcome: str  # passed, failed, skipped, not_exercised, blocked
    failures: list[Failure] = field(default_factory=list)
    reason: str = ""
    duration: float = 0.0
    exchanges: int = 0  # requests the test sent (its evidence when it passed)
    samples: list[str] = field(default_factory=list)
    blocked_by: list[str] = field(default_factory=list)
    observational: bool = False  # its pass is no evidence: the checks it runs count their own
    finished: float = field(default_factory=time.time)  # when its outcome was known (epoch seconds): the run's timeline


@dataclass
class RequirementResult:
    id: str
    level: str
    klass: str
    statement: str
    status: str
    reason: str
    tests: list[str]
    failures: list[Failure]
    evidence: int = 0
    samples: list[str] = field(default_factory=list)
    blocked_by: list[str] = field(default_factory=list)


def failures_from_exception(exc: BaseException, test: str, cited: list[str]) -> list[Failure]:
    """Every broken requirement an exception carries (violations, schemathesis groups, other errors)."""
    from schemathesis.core.failures import Failure as SchemathesisFailure

    from apollospace_conformance.checks import ContractViolation
    from apollospace_conformance.fuzzing import requirement_of_failure

    if isinstance(exc, ContractViolation):
        return [Failure(exc.requirement, exc.expected, exc.received, exc.reproduction, test)]
    children = getattr(exc, "exceptions", None)
    if children:
        reproduction = _reproduction(str(exc))
        found: list[Failure] = []
        for child in children:
            for failure in failures_from_exception(child, test, cited):
                failure.reproduction = failure.reproduction or reproduction
                found.append(failure)
        return found
    if isinstance(exc, SchemathesisFailure):
        inner = getattr(exc, "exception", None)
        if isinstance(inner, ContractViolation):
            return failures_from_exception(inner, test, cited)
        requirement = requirement_of_failure(exc) or "/req/responses/schema-conformance"
        return [Failure(requirement, "no failure of schemathesis' " + ", ".join(type(exc).checks or ("custom",)) + " check",
                        f"{exc.operation}: {exc.title}: {exc.message[:500]}", None, test)]
    text = str(exc).strip() or type(exc).__name__
    named = _CITED.findall(text)
    targets = named or cited
    return [Failure(requirement, "the behaviour the requirement states", f"{type(exc).__name__}: {text[:600]}", None, test) for requirement in targets]


def has_verdict(error: BaseException, cited: list[str]) -> bool:
    """Whether an exception is a judgement on a requirement (a violation, a schemathesis check) rather than an accident."""
    from schemathesis.core.failures import Failure as SchemathesisFailure

    from apollospace_conformance.checks import ContractViolation

    children = getattr(error, "exceptions", None)
    if children:
        return all(has_verdict(child, cited) for child in children)
    if isinstance(error, ContractViolation | SchemathesisFailure):
        return True
    return bool(_CITED.findall(str(error)))


def _reproduction(text: str) -> str | None:
    """The curl command schemathesis prints under "Reproduce with:"."""
    marker = text.find("Reproduce with:")
    if marker < 0:
        return None
    for line in text[marker:].splitlines()[1:]:
        line = line.strip(" |")
        if line.startswith("curl "):
            return line.replace("'Authorization: [Filtered]'", '"Authorization: Bearer $APOLLOSPACE_CONFORMANCE_TOKEN_A"')
    return None


def requirement_results(catalog: RequirementCatalog, records: list[TestRecord], claimed: set[str], extra_failures: list[Failure],
                        evidence: dict[str, Evidence] | None = None) -> list[RequirementResult]:
    """Each requirement's status from the tests that cite it, the failures found and the evidence gathered."""
    evidence = evidence or {}
    results = []
    for requirement in catalog.requirements.values():
        citing = [r for r in records if requirement.id in r.requirements]
        failures = [f for r in records for f in r.failures if f.requirement == requirement.id] + [f for f in extra_failures if f.requirement == requirement.id]
        seen = Evidence()
        for source in (evidence.get(requirement.id), *(_test_evidence(r) for r in citing)):
            if source is not None:
                seen.add(source.count, None)
                seen.samples.extend(sample for sample in source.samples if sample not in seen.samples)
        status, reason, blockers = _status(requirement, claimed, citing, failures, seen)
        results.append(RequirementResult(requirement.id, requirement.level, requirement.klass, requirement.statement, status, reason,
                                         [r.nodeid for r in citing], failures[:10], seen.count, seen.samples[:SAMPLES_KEPT], blockers))
    return results


def _test_evidence(record: TestRecord) -> Evidence | None:
    """What a passed behaviour test adds: the exchanges it sent."""
    if record.outcome != "passed" or record.observational or not record.exchanges:
        return None
    return Evidence(record.exchanges, list(record.samples))


def _status(requirement: Requirement, claimed: set[str], citing: list[TestRecord], failures: list[Failure], seen: Evidence) -> tuple[str, str, list[str]]:
    if requirement.klass not in claimed:
        return SKIP, f"class '{requirement.klass}' not claimed in this run", []
    if "http" not in requirement.verified_by:
        return SKIP, "a property of the published spec, checked by its house rules, not over HTTP", []
    if failures:
        return FAIL, f"{len(failures)} failure(s)", []
    judging = [r for r in citing if not r.observational]  # tests about it; observational ones only carry checks' evidence
    if seen.count and (any(r.outcome == "passed" for r in citing) or not judging):
        return PASS, f"{seen.count} exchange(s) exercised it", []
    blocked_tests = [r for r in judging if r.blocked_by]
    if blocked_tests:
        return _blocked(requirement, blocked_tests)
    missing = sorted({r.reason for r in citing if r.outcome == "skipped" and r.reason})
    if missing:
        return SKIP, "; ".join(missing)[:400], []
    unmet = sorted({r.reason for r in citing if r.outcome == "not_exercised" and r.reason})
    if unmet:
        return NOT_EXERCISED, "; ".join(unmet)[:400], []
    if any(r.outcome == "passed" for r in citing):
        return NOT_EXERCISED, "its tests passed but no exchange met its condition", []
    if any(r.blocked_by for r in citing):
        return _blocked(requirement, [r for r in citing if r.blocked_by])
    return NOT_EXERCISED, "no test ran for it", []


def _blocked(requirement: Requirement, stopped: list[TestRecord]) -> tuple[str, str, list[str]]:
    blockers = sorted({b for r in stopped for b in r.blocked_by if b != requirement.id})
    names = sorted(r.nodeid for r in stopped)
    return BLOCKED, f"blocked by {', '.join(blockers)}: it broke in a step of {', '.join(names[:3])}{' ...' if len(names) > 3 else ''}", blockers


def verdict(results: list[RequirementResult], claimed: set[str], catalog: RequirementCatalog) -> tuple[str, list[str]]:
    """PASS when every HTTP-verifiable MUST of the claimed classes passed with evidence; else FAIL or INCOMPLETE, with why."""
    failed, incomplete = [], []
    for result in results:
        requirement = catalog[result.id]
        if result.klass not in claimed or not requirement.is_must or "http" not in requirement.verified_by:
            continue
        if result.status == FAIL:
            failed.append(f"{result.id} FAIL: {_first_failure(result)}")
        elif result.status != PASS:
            incomplete.append(f"{result.id} {result.status}: {result.reason}")
    if failed:
        return FAIL, failed + incomplete
    return (INCOMPLETE, incomplete) if incomplete else (PASS, [])


def _first_failure(result: RequirementResult) -> str:
    if not result.failures:
        return result.reason
    first = result.failures[0]
    return f"expected {first.expected}; received {first.received}"[:300]


def class_status(results: list[RequirementResult], claimed: set[str], catalog: RequirementCatalog) -> dict[str, str]:
    """FAIL when one of the class's MUSTs failed; PASS only when each of its HTTP MUSTs passed; INCOMPLETE otherwise."""
    statuses: dict[str, str] = {}
    for klass in sorted({r.klass for r in results}):
        musts = [r for r in results if r.klass == klass and catalog[r.id].is_must and "http" in catalog[r.id].verified_by]
        if klass not in claimed:
            statuses[klass] = SKIP
        elif any(r.status == FAIL for r in musts):
            statuses[klass] = FAIL
        elif all(r.status == PASS for r in musts):
            statuses[klass] = PASS
        else:
            statuses[klass] = INCOMPLETE
    return statuses


def as_dict(value: Any) -> Any:
    return asdict(value)
