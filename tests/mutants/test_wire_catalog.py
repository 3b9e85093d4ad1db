"""Mutants on the wire: the kit catches every mutation a proxy makes to the real server's traffic, and nothing through a proxy that changes nothing.

The reference server runs unmodified, through its own CLI; the proxy in front of
it (tests/mutants/wire) breaks one rule in transit. Run by `make mutants`: about
half a minute per mutation, and one full run through the passthrough proxy.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mutants.catalog import certify, failed_requirements
from tests.mutants.wire.catalog import expectations, mutation_modules, wired
from tests.mutants.wire.mutations import PASSTHROUGH
from tests.mutants.wire.relay import relay_target, relay_url, unrelay

PASSTHROUGH_SEED = 1
_RESULTS: dict[str, bool] = {}
_FALSE_ALARMS: dict[str, int] = {}


class _Score:
    """Prints the wire catalog's score at the end of the run, beside the code catalog's."""

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if _RESULTS:
            terminalreporter.write_line(f"wire mutation score: {sum(_RESULTS.values())}/{len(_RESULTS)} mutations caught with exactly the expected requirements")
        if _FALSE_ALARMS:
            terminalreporter.write_line(f"false alarms through the passthrough proxy: {sum(_FALSE_ALARMS.values())} failed requirement(s)")


@pytest.fixture(scope="module")
def _score(request: pytest.FixtureRequest) -> None:
    manager = request.config.pluginmanager
    if not manager.has_plugin("wire-score"):
        manager.register(_Score(), "wire-score")


# --- fast: the catalog is whole (make test) ---------------------------------------------


def test_wire_catalog_is_complete() -> None:
    """Every wire mutation module has exactly one expectation line, and every line a module."""
    names = [e.variant for e in expectations()]
    assert len(names) == len(set(names)), "a wire mutation has two expectation lines"
    assert set(names) == mutation_modules()
    assert PASSTHROUGH not in names


def test_every_wire_mutation_names_its_requirement() -> None:
    """Each mutation's docstring starts by naming a requirement it is expected to break."""
    for expectation in expectations():
        module = __import__(f"tests.mutants.wire.mutations.{expectation.variant}", fromlist=["x"])
        doc = (module.__doc__ or "").strip()
        assert doc.startswith("Breaks /req/"), f"{expectation.variant}: docstring must start with 'Breaks /req/...'"
        assert any(rid in doc.splitlines()[0] for rid in expectation.requirements), f"{expectation.variant}: first line names none of its expected IDs"


def test_relay_urls_round_trip() -> None:
    """A receiver URL pointed at the relay comes back unchanged in what the kit reads."""
    origin, target = "http://127.0.0.1:4000", "http://127.0.0.1:5000/apollospace-conformance-hooks/signature-1"
    relayed = relay_url(origin, target)
    assert relay_target(relayed.removeprefix(origin)) == target
    assert unrelay({"items": [{"url": relayed, "id": "x"}]}, origin) == {"items": [{"url": target, "id": "x"}]}


# --- slow: certify through the proxy (make mutants) -------------------------------------


@pytest.mark.mutants
@pytest.mark.parametrize("expectation", expectations(), ids=lambda e: e.variant)
def test_wire_mutation_is_caught_exactly(expectation, tmp_path: Path, _score: None) -> None:  # type: ignore[no-untyped-def]
    """The kit fails the mutation with exactly its expected requirement IDs (within the claimed classes).

    The exit code is 1 when one of them is a MUST; a mutation breaking only SHOULDs certifies (exit 0) with them FAIL.
    """
    with wired(expectation.variant, tmp_path / "served") as creds:
        code, report, output = certify(creds, tmp_path / "report", seed=7, classes=expectation.classes)
    failed = failed_requirements(report)
    _RESULTS[expectation.variant] = failed == set(expectation.requirements)
    assert failed == set(expectation.requirements), f"caught {sorted(failed)}, expected {sorted(expectation.requirements)}\n{output[-3000:]}"
    assert code == expectation.exit_code, f"expected exit {expectation.exit_code}, got {code}\n{output[-3000:]}"


@pytest.mark.mutants
def test_passthrough_proxy_has_no_false_alarm(tmp_path: Path, _score: None) -> None:
    """Through the proxy with no mutation (relay included), the reference server passes every class."""
    with wired(PASSTHROUGH, tmp_path / "served") as creds:
        code, report, output = certify(creds, tmp_path / "report", seed=PASSTHROUGH_SEED)
    _FALSE_ALARMS[PASSTHROUGH] = len(failed_requirements(report))
    assert failed_requirements(report) == set(), output[-4000:]
    assert code == 0, output[-4000:]


@pytest.mark.mutants
def test_wire_mutation_score() -> None:
    """Every wire mutation was caught exactly."""
    total = len(expectations())
    if len(_RESULTS) < total:
        pytest.skip("not every wire mutation ran in this session")
    assert sum(_RESULTS.values()) == total
