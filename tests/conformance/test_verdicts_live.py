"""Verdicts on real runs: no PASS without evidence, and one root cause reported once with what it blocked."""

from __future__ import annotations

from pathlib import Path

from tests.mutants.catalog import certify, serving

RETRY_AFTER = "/req/rate-limits/429-retry-after"
CREATED = "/req/status-codes/created-201"
EXIT_FAIL, EXIT_INCOMPLETE = 1, 3


def _by_id(report: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {r["id"]: r for r in report["requirements"]}


def test_a_server_that_never_answers_429_is_incomplete_not_pass(tmp_path: Path) -> None:
    """Limits out of reach of the probe: 429-retry-after is NOT EXERCISED (never PASS), the verdict INCOMPLETE, exit 3."""
    with serving("tests.conformance.servers.limits_out_of_reach") as creds:
        code, report, output = certify(creds, tmp_path / "report", seed=3, classes=["rate-limits"])
    requirement = _by_id(report)[RETRY_AFTER]
    assert requirement["status"] == "NOT EXERCISED", output[-3000:]
    assert requirement["evidence"] == 0
    assert report["verdict"] == "INCOMPLETE" and code == EXIT_INCOMPLETE, output[-3000:]
    assert f"{RETRY_AFTER} NOT EXERCISED" in output  # the terminal says why it did not pass
    assert "Traceback" not in output


def test_create_answering_200_fails_created_201_and_blocks_what_depends_on_it(tmp_path: Path) -> None:
    """The root cause FAILs once; requirements whose steps create a lead are BLOCKED by it, not failed nor 'not run'."""
    with serving("create_answers_200") as creds:
        code, report, output = certify(creds, tmp_path / "report", seed=3, classes=["status-codes", "pagination", "leads"])
    requirements = _by_id(report)
    failed = {rid for rid, r in requirements.items() if r["status"] == "FAIL"}
    blocked = {rid: r["blocked_by"] for rid, r in requirements.items() if r["status"] == "BLOCKED"}
    assert failed == {CREATED}, output[-3000:]
    assert blocked and all(by == [CREATED] for by in blocked.values()), blocked
    assert code == EXIT_FAIL
    assert "Traceback" not in output and (tmp_path / "report" / "tracebacks.log").is_file()
