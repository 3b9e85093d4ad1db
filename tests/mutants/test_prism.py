"""The kit on a server nobody here wrote: Prism's mock of the bundle fails exactly the reviewed golden list.

Prism (@stoplight/prism-cli, installed with npm on first use; the test skips
when npm or the install is not available) serves the spec's examples whatever
was sent before, behind a shim that puts it under /v1. The kit must judge it to
the end (no abort, a verdict for every claimed class), and its failures must be
exactly the lines of tests/mutants/prism/golden.txt, each a real deviation of a
stateless mock. A new failure is either a kit false alarm (fix the kit) or a
deviation nobody reviewed yet (add its line, with why); a line no longer failing
means the kit stopped catching it.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.mutants.catalog import certify, failed_requirements
from tests.mutants.prism.serving import prism_serving

pytestmark = pytest.mark.mutants
GOLDEN = Path(__file__).parent / "prism" / "golden.txt"
SEED = 7
RUN_BUDGET_SECONDS = 600  # the quick profile judges Prism in about 6 minutes on a loaded machine, mostly waits
# Prism never answers 429: a short probe says NOT EXERCISED as surely as the default 6000 requests (90 s).
# certify() runs the kit in the report's parent folder, where the kit reads apollospace-conformance.toml.
KIT_CONFIG = "[conformance]\nprobe_max_requests = 300\n"
VERDICTS = ("PASS", "FAIL", "INCOMPLETE")


def golden_list() -> dict[str, str]:
    """Requirement ID -> why a stateless mock breaks it, from golden.txt (`ID: why`, `#` comments)."""
    golden: dict[str, str] = {}
    for number, line in enumerate(GOLDEN.read_text("utf-8").splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement, _, why = line.partition(":")
        assert requirement.startswith("/req/") and why.strip(), f"golden.txt line {number}: expected '/req/...: why', got {line!r}"
        assert requirement not in golden, f"golden.txt line {number}: {requirement} listed twice"
        golden[requirement] = why.strip()
    return golden


def differences(failed: set[str], golden: dict[str, str], report: dict) -> list[str]:  # type: ignore[type-arg]
    """One line per requirement on which the run and golden.txt disagree, saying which way and what the kit saw."""
    by_id = {r["id"]: r for r in report.get("requirements", [])}
    lines = []
    for rid in sorted(failed - golden.keys()):
        first = (by_id[rid].get("failures") or [{}])[0]
        seen = f"expected {first.get('expected', '?')}; received {first.get('received', '?')}"
        lines.append(f"+ {rid} FAIL, not in golden.txt ({by_id[rid].get('reason')}): {seen[:400]}")
    for rid in sorted(golden.keys() - failed):
        entry = by_id.get(rid, {})
        lines.append(f"- {rid} is {entry.get('status', 'absent from the report')} ({entry.get('reason', '')}), golden.txt expects FAIL: {golden[rid]}")
    return lines


def test_golden_list_is_well_formed() -> None:
    """Every golden line names a requirement of the catalog, once, with why a stateless mock breaks it."""
    from apollospace_spec.catalog import load_catalog

    unknown = sorted(set(golden_list()) - set(load_catalog().requirements))
    assert not unknown, f"golden.txt names requirements the catalog does not have: {unknown}"


def test_prism_mock_fails_exactly_the_golden_list(tmp_path: Path) -> None:
    """The kit judges Prism's mock to the end, gives every claimed class a verdict, and fails exactly the golden list."""
    (tmp_path / "apollospace-conformance.toml").write_text(KIT_CONFIG, "utf-8")
    with prism_serving(tmp_path) as creds:
        started = time.monotonic()
        code, report, output = certify(creds, tmp_path / "report", seed=SEED)
        took = time.monotonic() - started
    print(f"kit on Prism: exit {code} in {took:.0f} s; logs in {tmp_path}")
    assert report, f"no report.json (exit {code})\n{output[-3000:]}"
    assert code != 2 and not report.get("partial"), f"the run did not complete (exit {code})\n{output[-3000:]}"
    assert took < RUN_BUDGET_SECONDS, f"the run took {took:.0f} s, more than {RUN_BUDGET_SECONDS} s"
    unjudged = {name: status for name, status in report["classes"].items() if status not in VERDICTS}
    missing = set(report["claimed_classes"]) - set(report["classes"])
    assert not unjudged and not missing, f"claimed classes without a verdict: {unjudged or sorted(missing)}\n{output[-3000:]}"
    lines = differences(failed_requirements(report), golden_list(), report)
    if lines:
        pytest.fail("the FAIL set differs from tests/mutants/prism/golden.txt (+ failed but not listed, - listed but not failed):\n" + "\n".join(lines), pytrace=False)
    assert code == 1, f"a run with MUST failures exits 1, got {code}\n{output[-3000:]}"
