"""Real runs, one per outcome, read by their readers: a browser, a CI's JUnit view, a JSON Schema validator.

The failing run certifies a reference server whose GET /v1/stars/transactions
answers an HTML page with a heading, an onerror image and a script
(tests/conformance/servers/markup_answers.py); the passing run the reference
server. Both claim three small classes to keep the time low. Headless
Chromium photographs both certificates into build/certificates/ for a human look.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from apollospace_conformance.report import SCHEMA_PATH
from apollospace_conformance.report.digest import verify_digest
from tests.conformance.servers.markup_answers import PAGE
from tests.docs.conftest import CHROMIUM
from tests.mutants.catalog import REPO, certify, serving

pytestmark = pytest.mark.slow

CLASSES = ["leads", "pipelines", "versioning"]
BROKEN = "/req/versioning/v1-prefix"
SCREENSHOTS = REPO / "build" / "certificates"
JUNIT_LIMIT = 50_000
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync")


def _run(variant: str, folder: Path, expected_exit: int) -> tuple[Path, dict[str, Any]]:
    output = folder / "report"
    with serving(variant) as creds:
        code, report, said = certify(creds, output, seed=3, classes=CLASSES)
    assert code == expected_exit, said[-3000:]
    return output, report


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[str, Any]]]:
    """Both runs at once: each mostly waits on its server, and the module's time is the longer of the two."""
    with ThreadPoolExecutor(2) as pool:
        failing = pool.submit(_run, "tests.conformance.servers.markup_answers", tmp_path_factory.mktemp("failing"), 1)
        passing = pool.submit(_run, "reference", tmp_path_factory.mktemp("passing"), 0)
        return {"failing": failing.result(), "passing": passing.result()}


@pytest.fixture(scope="module")
def failing(runs: dict[str, tuple[Path, dict[str, Any]]]) -> tuple[Path, dict[str, Any]]:
    return runs["failing"]


@pytest.fixture(scope="module")
def passing(runs: dict[str, tuple[Path, dict[str, Any]]]) -> tuple[Path, dict[str, Any]]:
    return runs["passing"]


def chromium(*args: str) -> str:
    """Headless Chromium with a throwaway profile and no network of its own; its stdout."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    with tempfile.TemporaryDirectory(prefix="apollospace-certificate-chromium-") as profile:
        result = subprocess.run([str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_a_server_body_full_of_markup_is_text_in_the_certificate(failing: tuple[Path, dict[str, Any]]) -> None:
    """The page a server answered is quoted as received, escaped: in a browser it is text, its script never runs."""
    output, report = failing
    html = (output / "certificate.html").read_text("utf-8")
    received = next(r for r in report["requirements"] if r["id"] == BROKEN)["failures"][0]["received"]
    assert PAGE.decode() in received
    assert "&lt;h1&gt;INJECTED&lt;/h1&gt;" in html and "&lt;script&gt;document.title=" in html
    assert "<h1>INJECTED" not in html and "<script" not in html.lower() and "<img" not in html.lower()
    dom = chromium("--dump-dom", (output / "certificate.html").as_uri())
    assert "<title>Apollo Space conformance: FAIL</title>" in dom  # the script would have renamed the page
    assert "data-xss" not in dom.replace("data-xss&#39;", "").replace("'data-xss'", "") and "<h1>INJECTED" not in dom
    assert "&lt;h1&gt;INJECTED&lt;/h1&gt;" in dom


def test_a_failing_run_s_junit_is_small_names_requirement_ids_and_agrees_with_the_report(failing: tuple[Path, dict[str, Any]]) -> None:
    output, report = failing
    junit = (output / "junit.xml").read_bytes()
    assert len(junit) < JUNIT_LIMIT, len(junit)
    root = ET.fromstring(junit)
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name", "").startswith("apollospace-conformance ")
    failed = {(case.get("classname"), case.get("name")) for case in suite.iter("testcase") if case.find("failure") is not None}
    assert failed == {("versioning", BROKEN)}
    judged = {case.get("name"): "FAIL" if case.find("failure") is not None else (case.find("skipped").get("type") if case.find("skipped") is not None else "PASS")  # type: ignore[union-attr]
              for case in suite.iter("testcase")}
    assert judged == {r["id"]: r["status"] for r in report["requirements"]}
    assert b"<script" not in junit and b"hypothesis" not in junit.lower().replace(b"hypothesis_", b"")


@pytest.mark.parametrize("outcome", ["passing", "failing"])
def test_report_json_follows_its_schema_and_its_digest(outcome: str, request: pytest.FixtureRequest) -> None:
    output, report = request.getfixturevalue(outcome)
    jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text("utf-8"))).validate(report)
    assert verify_digest(report)
    assert report["verdict"] == {"passing": "PASS", "failing": "FAIL"}[outcome]
    assert {t["outcome"] for t in report["tests"]} <= {"passed", "failed", "skipped", "not_exercised", "blocked"} and report["tests"]


def test_screenshots_of_a_passing_and_a_failing_certificate(passing: tuple[Path, dict[str, Any]], failing: tuple[Path, dict[str, Any]]) -> None:
    """Written to build/certificates/ (passing.png, failing.png, beside the certificates they show) for a human look."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, (output, _) in (("passing", passing), ("failing", failing)):
        shutil.copy(output / "certificate.html", SCREENSHOTS / f"{name}.html")
        shot = SCREENSHOTS / f"{name}.png"
        shot.unlink(missing_ok=True)
        chromium(f"--screenshot={shot}", "--window-size=1280,2000", (SCREENSHOTS / f"{name}.html").as_uri())
        assert shot.is_file() and shot.stat().st_size > 20_000, shot
