"""Every requirement the kit can verify over HTTP has a test, and every test cites real requirements."""

from __future__ import annotations

import pytest

from apollospace_conformance.locate import suite_root
from apollospace_conformance.pytest_plugin import ConformanceRun, requirement_ids
from apollospace_conformance.settings import KitSettings
from apollospace_spec import load_catalog

SUITE = suite_root()


class _Collector:
    def __init__(self) -> None:
        self.cited: dict[str, list[str]] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            self.cited[item.nodeid] = requirement_ids(item)


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """The suite's tests and the requirement IDs each cites (collected, not run)."""
    output = tmp_path_factory.mktemp("collect")
    settings = KitSettings(url="http://127.0.0.1:9/v1", token_a="t", org_a="o", token_b="t", org_b="o", output=str(output))
    collector = _Collector()
    code = pytest.main(["--collect-only", "-q", "-c", str(SUITE / "pytest.ini"), "--rootdir", str(SUITE), "-p", "no:cacheprovider", str(SUITE)],
                       plugins=[ConformanceRun(settings), collector])
    assert code == 0, f"collecting the suite failed with exit {code}"
    return collector.cited


def test_every_suite_test_cites_a_requirement(collected: dict[str, list[str]]) -> None:
    """A suite test that cites no requirement could not appear in a report."""
    uncited = [nodeid for nodeid, ids in collected.items() if not ids]
    assert not uncited, f"tests citing no requirement: {uncited}"


def test_every_cited_requirement_exists(collected: dict[str, list[str]]) -> None:
    """A test citing an unknown ID is a typo or a stale reference."""
    catalog = load_catalog()
    unknown = sorted({rid for ids in collected.values() for rid in ids if rid not in catalog})
    assert not unknown, f"unknown requirement IDs cited: {unknown}"


def test_every_http_must_requirement_has_a_test(collected: dict[str, list[str]]) -> None:
    """Each MUST the kit can verify over HTTP is cited by at least one suite test."""
    cited = {rid for ids in collected.values() for rid in ids}
    missing = sorted(r.id for r in load_catalog().verified_by("http") if r.is_must and r.id not in cited)
    assert not missing, f"MUST requirements with no kit test: {missing}"
