"""The kit catches every broken variant with exactly the expected requirements, and nothing on the reference server.

Run by `make mutants` (called by .ci/run): about half a minute per variant.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mutants.catalog import (
    certify,
    expectations,
    failed_requirements,
    serving,
    variant_modules,
)

pytestmark = pytest.mark.mutants
SEEDS = (1, 2, 3, 4, 5)
_RESULTS: dict[str, bool] = {}
_FALSE_ALARMS: dict[int, int] = {}
_REFERENCE_REPORTS: dict[int, dict] = {}  # type: ignore[type-arg]


def test_catalog_is_complete() -> None:
    """Every variant module has exactly one expectation line, and every line a module."""
    names = [e.variant for e in expectations()]
    assert len(names) == len(set(names)), "a variant has two expectation lines"
    assert set(names) == variant_modules()


def test_every_variant_names_its_requirement() -> None:
    """Each variant's docstring starts by naming the requirement it breaks."""
    for expectation in expectations():
        module = __import__(f"tests.mutants.variants.{expectation.variant}", fromlist=["x"])
        doc = (module.__doc__ or "").strip()
        assert doc.startswith("Breaks /req/"), f"{expectation.variant}: docstring must start with 'Breaks /req/...'"
        assert any(rid in doc.splitlines()[0] for rid in expectation.requirements), f"{expectation.variant}: first line names none of its expected IDs"


@pytest.mark.parametrize("expectation", expectations(), ids=lambda e: e.variant)
def test_variant_is_caught_exactly(expectation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The kit fails the variant with exactly its expected requirement IDs (within the claimed classes).

    The exit code is 1 when one of them is a MUST; a variant breaking only SHOULDs certifies (exit 0) with them FAIL.
    """
    with serving(expectation.variant) as creds:
        code, report, output = certify(creds, tmp_path / "report", seed=7, classes=expectation.classes)
    failed = failed_requirements(report)
    _RESULTS[expectation.variant] = failed == set(expectation.requirements)
    assert code == expectation.exit_code, f"expected exit {expectation.exit_code}, got {code}\n{output[-3000:]}"
    assert failed == set(expectation.requirements), f"caught {sorted(failed)}, expected {sorted(expectation.requirements)}\n{output[-3000:]}"


@pytest.mark.parametrize("seed", SEEDS)
def test_reference_server_has_no_false_alarm(seed: int, tmp_path: Path) -> None:
    """The unbroken reference server passes every claimed class, whatever the seed."""
    with serving("reference") as creds:
        code, report, output = certify(creds, tmp_path / "report", seed=seed)
    _FALSE_ALARMS[seed] = len(failed_requirements(report))
    _REFERENCE_REPORTS.setdefault(seed, report)
    assert failed_requirements(report) == set(), output[-4000:]
    assert code == 0, output[-4000:]


def _fingerprint(report: dict) -> tuple:  # type: ignore[type-arg]
    statuses = tuple((r["id"], r["status"]) for r in report["requirements"])
    counts = report["counts"]
    return statuses, counts["tests"], counts["cases"], counts["generated_cases"], counts["generated_cases_digest"]


def test_same_seed_same_verdict(tmp_path: Path) -> None:
    """Two runs with the same seed give identical verdicts, requirement statuses, case counts and generated cases (their digest)."""
    if SEEDS[0] not in _REFERENCE_REPORTS:
        pytest.skip("the first seed's reference run did not happen in this session")
    with serving("reference") as creds:
        _, again, output = certify(creds, tmp_path / "report", seed=SEEDS[0])
    first = _REFERENCE_REPORTS[SEEDS[0]]
    assert again["verdict"] == first["verdict"], output[-2000:]
    assert _fingerprint(again) == _fingerprint(first)


def test_mutation_score() -> None:
    """Every variant of the catalog was caught exactly (the score is printed at the end of the run)."""
    total = len(expectations())
    caught = sum(_RESULTS.values())
    if len(_RESULTS) < total:
        pytest.skip("not every variant ran in this session")
    assert caught == total
