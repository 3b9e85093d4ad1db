"""report.json and junit.xml from test records (no server): the published schema, the digest, JUnit's agreement and size."""

from __future__ import annotations

import copy
import hashlib
import json
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest

from apollospace_conformance.evidence import Evidence
from apollospace_conformance.report import SCHEMA_PATH, build_report, render_markdown
from apollospace_conformance.report.digest import canonical_json, digest_of, verify_digest
from apollospace_conformance.report.junit import junit_xml
from apollospace_conformance.report.left import left_on_target
from apollospace_conformance.results import Failure, TestRecord
from apollospace_spec import load_catalog

CATALOG = load_catalog()
CREATED = "/req/status-codes/created-201"
WALK = "/req/pagination/complete-walk"
TIMELY = "/req/responses/timely"
RETRY_AFTER = "/req/rate-limits/429-retry-after"
MARKUP = "<h1>INJECTED</h1><script>document.title='XSS'</script>"
JUNIT_STATUS = {"failure": "FAIL", None: "PASS"}
JUNIT_LIMIT = 50_000


def fake_run(records: list[TestRecord], *, claimed: set[str] | None = None, evidence: dict[str, Evidence] | None = None, left: tuple[str, ...] = (),
             exhausted: str | None = None, profile: str = "standard") -> Any:
    """What build_report reads of a ConformanceRun, without pytest nor a server."""
    started = datetime.now(UTC)
    settings = SimpleNamespace(url="http://127.0.0.1:9/v1", seed=7, profile=profile, profile_settings=SimpleNamespace(certification=profile != "quick"),
                               redacted=lambda: {"url": "http://127.0.0.1:9/v1", "token_a": "<given>", "token_b": "<not given>", "timeout": 15})
    pacer = SimpleNamespace(exhausted=exhausted, sent=321)
    state = SimpleNamespace(observations=SimpleNamespace(responses=0, auth_rejections=0), evidence=evidence or {}, dead=None, pacer=pacer,
                            started_at=started, generated_cases=4, case_digest=hashlib.sha256(b"cases"))
    return SimpleNamespace(claimed=claimed or set(CATALOG.classes), state=state, records=records, settings=settings,
                           finished_at=started.timestamp() + 12.5, left_on_target=list(left))


def sample_records() -> list[TestRecord]:
    """A run with every outcome: a failure quoting markup, a pass with evidence, a skip, a NOT EXERCISED, a BLOCKED, an interrupted test."""
    now = time.time()
    return [
        TestRecord("test_status_codes.py::test_created_201", [CREATED], "failed", duration=0.4, finished=now + 1,
                   failures=[Failure(CREATED, "201 Created", f"POST /v1/leads answered 200: {MARKUP}", "curl -X POST http://127.0.0.1:9/v1/leads", "test_status_codes.py::test_created_201")]),
        TestRecord("test_pagination.py::test_complete_walk", [WALK], "blocked", duration=0.2, blocked_by=[CREATED], finished=now + 2),
        TestRecord("test_pagination.py::test_limits", ["/req/pagination/limit-respected"], "passed", duration=0.3, exchanges=5, samples=["GET /v1/leads -> 200"], finished=now + 3),
        TestRecord("test_rate_limits.py::test_probe", [RETRY_AFTER], "not_exercised", reason="no request was answered 429; to exercise it: pass --rate-limit-probe", finished=now + 4),
        TestRecord("test_auth.py::test_expired", ["/req/auth/expired-token"], "skipped", reason="no expired token (--expired-token)", finished=now + 5),
        # Interrupted: the run's time budget ran out mid-test (the plugin turns BudgetExhausted into a skip).
        TestRecord("test_leads.py::test_search", ["/req/leads/filters"], "skipped", reason="the time budget (--max-duration 10 s) ran out", duration=9.0, finished=now + 11),
    ]


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    evidence = {TIMELY: Evidence(40, ["GET /v1/leads -> 200"])}
    return build_report(fake_run(sample_records(), evidence=evidence, left=("/pipelines/p1", "/pipelines/p1/", "/pipelines/p1/stages/s1", "/leads/l1?x=1", "/leads/l1"),
                                 exhausted="the time budget (--max-duration 10 s)"))


def schema() -> dict[str, Any]:
    return dict(json.loads(SCHEMA_PATH.read_text("utf-8")))


def test_report_json_follows_its_published_schema(report: dict[str, Any]) -> None:
    """The schema shipped beside the report module validates a report with every outcome."""
    jsonschema.Draft202012Validator.check_schema(schema())
    jsonschema.Draft202012Validator(schema()).validate(json.loads(json.dumps(report)))
    assert report["schema_version"] == schema()["properties"]["schema_version"]["const"]
    assert report["provenance"]["python"].count(".") == 2 and report["provenance"]["schemathesis"][0].isdigit()


@pytest.mark.parametrize("breakage", [
    lambda r: r.pop("digest"),
    lambda r: r["requirements"][0].update(status="GREAT"),
    lambda r: r["provenance"]["settings"].update(token_a="eyJhbGciOi.secret.token"),
    lambda r: next(x for x in r["requirements"] if x["status"] == "PASS").update(evidence=0),
    lambda r: r.update(extra_field=1),
], ids=["no-digest", "unknown-status", "token-in-settings", "pass-without-evidence", "unknown-field"])
def test_the_schema_refuses_a_report_that_breaks_it(report: dict[str, Any], breakage: Any) -> None:
    broken = copy.deepcopy(report)
    breakage(broken)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema()).validate(broken)


def test_the_digest_covers_the_whole_report_in_canonical_json(report: dict[str, Any]) -> None:
    """sha256 over canonical JSON without the digest member: key order and whitespace do not matter, any edit does."""
    assert verify_digest(report)
    body = {key: value for key, value in report.items() if key != "digest"}
    assert report["digest"] == "sha256:" + hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
    reordered = json.loads(json.dumps(dict(reversed(list(report.items()))), indent=4))
    assert verify_digest(reordered)
    edited = copy.deepcopy(report)
    edited["requirements"][-1]["reason"] += " "
    assert not verify_digest(edited)


def test_canonical_json_writes_whole_numbers_without_a_fraction() -> None:
    """As RFC 8785 does: a reader in another language gets the same bytes."""
    assert canonical_json({"b": 15.0, "a": [1.5, "é"], "c": None}) == '{"a":[1.5,"é"],"b":15,"c":null}'.encode()
    assert digest_of({"x": 1.0, "digest": "ignored"}) == digest_of({"x": 1})


def junit_outcomes(xml: bytes) -> dict[str, tuple[str, str, str]]:
    """requirement id -> (status as junit says it, classname, skipped type) of every testcase."""
    found = {}
    for case in ET.fromstring(xml).iter("testcase"):
        failure, skipped = case.find("failure"), case.find("skipped")
        status = "FAIL" if failure is not None else skipped.get("type", "") if skipped is not None else "PASS"
        found[case.get("name", "")] = (status, case.get("classname", ""), skipped.get("message", "") if skipped is not None else "")
    return found


def test_junit_names_the_suite_after_the_kit_and_a_testcase_per_requirement(report: dict[str, Any]) -> None:
    root = ET.fromstring(junit_xml(report))
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == f"apollospace-conformance {report['provenance']['kit_version']}" == root.get("name")
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [(r["klass"], r["id"]) for r in report["requirements"]]
    created = next(c for c in cases if c.get("name") == CREATED)
    properties = {(p.get("name"), p.get("value")) for p in created.iter("property")}
    assert {("requirement", CREATED), ("level", "MUST"), ("test", "test_status_codes.py::test_created_201: failed")} <= properties
    walk = next(c for c in cases if c.get("name") == WALK)
    assert ("blocked_by", CREATED) in {(p.get("name"), p.get("value")) for p in walk.iter("property")}
    counts = report["counts"]["requirements"]
    assert int(suite.get("failures", "")) == counts["FAIL"] and int(suite.get("tests", "")) == len(report["requirements"])


def test_junit_agrees_with_report_json_on_every_outcome(report: dict[str, Any]) -> None:
    """Every requirement's status, the interrupted test's included, is the same in both; every test's outcome is named."""
    outcomes = junit_outcomes(junit_xml(report))
    assert {rid: status for rid, (status, _, _) in outcomes.items()} == {r["id"]: r["status"] for r in report["requirements"]}
    interrupted = next(r for r in report["requirements"] if r["id"] == "/req/leads/filters")
    assert interrupted["status"] == "SKIP" and "--max-duration" in outcomes["/req/leads/filters"][2]
    named = {p.get("value") for p in ET.fromstring(junit_xml(report)).iter("property") if p.get("name") == "test"}
    assert {f"{t['nodeid']}: {t['outcome']}" for t in report["tests"]} <= named


def test_junit_holds_no_blob_and_escapes_what_xml_cannot_carry(report: dict[str, Any]) -> None:
    """Markup is escaped by the XML writer; a NUL from a garbage answer is shown, not written raw; nothing base64-like."""
    garbage = copy.deepcopy(report)
    failed = next(r for r in garbage["requirements"] if r["status"] == "FAIL")
    failed["failures"][0]["received"] = "\x00\x17 hello " + MARKUP
    xml = junit_xml(garbage)
    ET.fromstring(xml)  # well-formed
    assert b"\\x00" in xml and b"&lt;script&gt;" in xml and b"<script>" not in xml
    assert b"hypothesis-statistics" not in xml and not any(len(word) > 200 for word in xml.split())


def test_junit_of_a_run_failing_everything_stays_under_50_kb(report: dict[str, Any]) -> None:
    """Every requirement failing ten times with long bodies, cited by a hundred tests: junit.xml is still small and names each ID."""
    worst = copy.deepcopy(report)
    tests = [{"nodeid": f"test_fuzz.py::test_fuzz[GET /op{i}]", "requirements": [], "outcome": "failed", "reason": "", "blocked_by": [],
              "started_ms": i, "duration_ms": 900, "exchanges": 50} for i in range(100)]
    worst["tests"] = tests
    for requirement in worst["requirements"]:
        requirement.update(status="FAIL", tests=[t["nodeid"] for t in tests], samples=["GET /v1/leads -> 200" * 10] * 3,
                           failures=[{"requirement": requirement["id"], "expected": "x" * 2000, "received": MARKUP * 100,
                                      "reproduction": "curl " + "y" * 3000, "test": tests[0]["nodeid"]}] * 10)
    xml = junit_xml(worst)
    assert len(xml) < JUNIT_LIMIT, len(xml)
    assert set(junit_outcomes(xml)) == {r["id"] for r in worst["requirements"]}


def test_left_on_target_lists_each_resource_once() -> None:
    """The same pipeline under several spellings, with its stages: one line, the stages nested under it."""
    assert left_on_target(["/pipelines/p1", "/pipelines/p1/", "/pipelines/p1?x=1", "/pipelines/p1/stages/s1", "/pipelines/p1/stages/s2", "/leads/l1", "/pipelines/p10"]) == [
        {"path": "/leads/l1", "nested": []},
        {"path": "/pipelines/p1", "nested": ["/pipelines/p1/stages/s1", "/pipelines/p1/stages/s2"]},
        {"path": "/pipelines/p10", "nested": []},
    ]


def test_the_markdown_certificate_quotes_a_server_body_as_code(report: dict[str, Any]) -> None:
    """A Markdown viewer renders raw HTML: the received body is a code span, the rest has its markup escaped."""
    markdown = render_markdown(report)
    assert f"` POST /v1/leads answered 200: {MARKUP} `" in markdown
    outside_code = "".join(markdown.split("`")[::2])
    assert "<script>" not in outside_code and "<h1>" not in outside_code


def test_a_quick_run_says_it_is_not_a_certification(report: dict[str, Any]) -> None:
    quick = build_report(fake_run(sample_records(), profile="quick"))
    assert "not a certification" in render_markdown(quick) and "not a certification" not in render_markdown(report)
