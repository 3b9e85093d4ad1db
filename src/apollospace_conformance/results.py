"""From test outcomes to requirement verdicts and the run's verdict."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from apollospace_spec import RequirementCatalog

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"
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
    nodeid: str
    requirements: list[str]
    outcome: str  # passed, failed, skipped
    failures: list[Failure] = field(default_factory=list)
    reason: str = ""
    duration: float = 0.0


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


def _reproduction(text: str) -> str | None:
    """The curl command schemathesis prints under "Reproduce with:"."""
    marker = text.find("Reproduce with:")
    if marker < 0:
        return None
    for line in text[marker:].splitlines()[1:]:
        line = line.strip(" |")
        if line.startswith("curl "):
            return line.replace("'Authorization: [Filtered]'", '"Authorization: Bearer $APOLLOSPACE_TOKEN"')
    return None


def requirement_results(catalog: RequirementCatalog, records: list[TestRecord], claimed: set[str], extra_failures: list[Failure]) -> list[RequirementResult]:
    results = []
    for requirement in catalog.requirements.values():
        citing = [r for r in records if requirement.id in r.requirements]
        failures = [f for r in records for f in r.failures if f.requirement == requirement.id] + [f for f in extra_failures if f.requirement == requirement.id]
        if requirement.klass not in claimed:
            status, reason = SKIP, f"class '{requirement.klass}' not claimed in this run"
        elif "http" not in requirement.verified_by:
            status, reason = SKIP, "a property of the published spec, checked by its house rules, not over HTTP"
        elif failures:
            status, reason = FAIL, f"{len(failures)} failure(s)"
        elif any(r.outcome == "passed" for r in citing):
            status, reason = PASS, f"{sum(r.outcome == 'passed' for r in citing)} test(s) passed"
        else:
            reasons = sorted({r.reason for r in citing if r.reason}) or ["no test ran for it"]
            status, reason = SKIP, "; ".join(reasons)[:400]
        results.append(RequirementResult(requirement.id, requirement.level, requirement.klass, requirement.statement, status, reason, [r.nodeid for r in citing], failures[:10]))
    return results


def verdict(results: list[RequirementResult], claimed: set[str], catalog: RequirementCatalog) -> tuple[str, list[str]]:
    """PASS when every HTTP-verifiable MUST of the claimed classes passed; the reasons otherwise."""
    problems = []
    for result in results:
        requirement = catalog[result.id]
        if result.klass not in claimed or not requirement.is_must or "http" not in requirement.verified_by:
            continue
        if result.status == FAIL:
            problems.append(f"{result.id} failed")
        elif result.status == SKIP:
            problems.append(f"{result.id} not verified ({result.reason})")
    return (PASS if not problems else FAIL), problems


def class_status(results: list[RequirementResult], claimed: set[str]) -> dict[str, str]:
    statuses: dict[str, str] = {}
    for result in results:
        current = statuses.get(result.klass)
        if result.klass not in claimed:
            statuses[result.klass] = SKIP
        elif result.status == FAIL or current == FAIL:
            statuses[result.klass] = FAIL
        elif result.status == PASS or current == PASS:
            statuses[result.klass] = PASS
        else:
            statuses[result.klass] = current or SKIP
    return statuses


def as_dict(value: Any) -> Any:
    return asdict(value)
