"""The kit on deprecation headers, live: PASS on a server of a spec that deprecates an operation, FAIL when they are dropped.

Only the versioning class is claimed. The PASS run is part of `make test`; the
variant and the real-spec runs are marked `mutants` (run them with `-m mutants`):
`make mutants` covers both already (the catalog's variant line, and the
reference run without false alarm).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mutants.catalog import certify, serving

DEPRECATION = "/req/versioning/deprecation-headers"


def _status(report: dict, requirement: str) -> dict:  # type: ignore[type-arg]
    return next(r for r in report["requirements"] if r["id"] == requirement)


def test_the_kit_passes_deprecation_headers_on_the_reference_server_of_a_deprecating_spec(tmp_path: Path) -> None:
    """The reference server serving the test spec: deprecation-headers PASS with evidence, the run PASS."""
    with serving("tests.conformance.servers.deprecated_spec") as creds:
        code, report, output = certify(creds, tmp_path / "report", seed=5, classes=["versioning"])
    requirement = _status(report, DEPRECATION)
    assert requirement["status"] == "PASS" and requirement["evidence"] >= 1, output[-3000:]
    assert code == 0 and report["verdict"] == "PASS", output[-3000:]


@pytest.mark.mutants
def test_the_kit_fails_a_server_that_drops_the_headers(tmp_path: Path) -> None:
    """The variant that strips Deprecation, Sunset and Link: deprecation-headers FAIL (a SHOULD: exit 0, and the certificate shows it)."""
    with serving("deprecation_headers_dropped") as creds:
        code, report, output = certify(creds, tmp_path / "report", seed=5, classes=["versioning"])
    requirement = _status(report, DEPRECATION)
    assert requirement["status"] == "FAIL", output[-3000:]
    assert {r["id"] for r in report["requirements"] if r["status"] == "FAIL"} == {DEPRECATION}
    assert code == 0, output[-3000:]


@pytest.mark.mutants
def test_the_real_spec_leaves_it_not_exercised(tmp_path: Path) -> None:
    """Nothing is deprecated in the real spec: NOT EXERCISED, saying why, and the run still PASSes (a SHOULD)."""
    with serving("reference") as creds:
        code, report, output = certify(creds, tmp_path / "report", seed=5, classes=["versioning"])
    requirement = _status(report, DEPRECATION)
    assert requirement["status"] == "NOT EXERCISED" and "marks no operation deprecated" in requirement["reason"], requirement
    assert code == 0, output[-3000:]
