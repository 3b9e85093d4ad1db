"""From test records and evidence to requirement statuses and the run's verdict (no server involved)."""

from __future__ import annotations

from apollospace_conformance.evidence import Evidence
from apollospace_conformance.results import (
    BLOCKED,
    FAIL,
    INCOMPLETE,
    NOT_EXERCISED,
    PASS,
    SKIP,
    Failure,
    TestRecord,
    class_status,
    requirement_results,
    verdict,
)
from apollospace_spec import load_catalog

CATALOG = load_catalog()
RETRY_AFTER = "/req/rate-limits/429-retry-after"
CREATED = "/req/status-codes/created-201"
WALK = "/req/pagination/complete-walk"
ALL = set(CATALOG.classes)


def _statuses(records: list[TestRecord], evidence: dict[str, Evidence] | None = None, failures: list[Failure] | None = None) -> dict[str, str]:
    return {r.id: r.status for r in requirement_results(CATALOG, records, ALL, failures or [], evidence or {})}


def test_a_passing_observational_test_is_no_evidence() -> None:
    """The fuzz layer cites every check's requirement: its pass alone leaves a check that never applied NOT EXERCISED."""
    fuzz = TestRecord("test_fuzz.py::test_fuzz[GET /leads]", [RETRY_AFTER], "passed", exchanges=40, observational=True)
    assert _statuses([fuzz])[RETRY_AFTER] == NOT_EXERCISED
    assert _statuses([fuzz], {RETRY_AFTER: Evidence(1, ["GET /v1/leads -> 429"])})[RETRY_AFTER] == PASS


def test_a_passing_behaviour_test_counts_the_exchanges_it_judged() -> None:
    walked = TestRecord("test_pagination.py::test_complete_walk", [WALK], "passed", exchanges=7, samples=["GET /v1/leads -> 200"])
    result = next(r for r in requirement_results(CATALOG, [walked], ALL, [], {}) if r.id == WALK)
    assert (result.status, result.evidence, result.samples) == (PASS, 7, ["GET /v1/leads -> 200"])
    idle = TestRecord("test_pagination.py::test_complete_walk", [WALK], "passed", exchanges=0)
    assert _statuses([idle])[WALK] == NOT_EXERCISED


def test_not_exercised_keeps_the_reason_and_the_input_to_add() -> None:
    probe = TestRecord("test_rate_limits.py::test_probe", [RETRY_AFTER], "not_exercised", reason="no request was answered 429; to exercise it: pass --rate-limit-probe")
    result = next(r for r in requirement_results(CATALOG, [probe], ALL, [], {}) if r.id == RETRY_AFTER)
    assert result.status == NOT_EXERCISED and "--rate-limit-probe" in result.reason


def test_blocked_names_the_requirement_that_broke_first() -> None:
    created = TestRecord("test_status_codes.py::test_created_201", [CREATED], "failed", failures=[Failure(CREATED, "201", "200")])
    walk = TestRecord("test_pagination.py::test_complete_walk", [WALK], "blocked", blocked_by=[CREATED], failures=[Failure(CREATED, "201", "200")])
    results = {r.id: r for r in requirement_results(CATALOG, [created, walk], ALL, [], {})}
    assert results[CREATED].status == FAIL
    assert results[WALK].status == BLOCKED and results[WALK].blocked_by == [CREATED]
    assert CREATED in results[WALK].reason


def test_verdict_pass_needs_every_must_passed_with_evidence() -> None:
    results = requirement_results(CATALOG, [], ALL, [], {})
    outcome, problems = verdict(results, ALL, CATALOG)
    assert outcome == INCOMPLETE and all("NOT EXERCISED" in p or "SKIP" in p for p in problems)
    for result in results:
        result.status = PASS
    assert verdict(results, ALL, CATALOG) == (PASS, [])


def test_verdict_fail_wins_and_lists_failures_first() -> None:
    results = requirement_results(CATALOG, [], ALL, [Failure(CREATED, "201", "200")], {})
    outcome, problems = verdict(results, ALL, CATALOG)
    assert outcome == FAIL and problems[0].startswith(f"{CREATED} FAIL")


def test_a_class_with_a_skipped_must_is_not_pass() -> None:
    results = requirement_results(CATALOG, [], ALL, [], {})
    for result in results:
        result.status = PASS
    next(r for r in results if r.id == RETRY_AFTER).status = SKIP
    statuses = class_status(results, ALL, CATALOG)
    assert statuses["rate-limits"] == INCOMPLETE and statuses["pagination"] == PASS
    next(r for r in results if r.id == WALK).status = FAIL
    assert class_status(results, ALL, CATALOG)["pagination"] == FAIL
    assert class_status(results, ALL - {"pagination"}, CATALOG)["pagination"] == SKIP
