"""The reports of a run: JSON for machines (with a published JSON Schema and a digest), JUnit for CI, a Markdown and an HTML certificate for people."""

from __future__ import annotations

import json
import platform
import re
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from apollospace_conformance import __version__
from apollospace_conformance.report import charts
from apollospace_conformance.report.digest import DIGEST_KEY, digest_of
from apollospace_conformance.report.junit import junit_xml
from apollospace_conformance.report.left import left_on_target
from apollospace_conformance.results import (
    FAIL,
    STATUSES,
    Failure,
    TestRecord,
    as_dict,
    class_status,
    requirement_results,
    verdict,
)
from apollospace_spec import load_catalog, spec_sha256

if TYPE_CHECKING:
    from apollospace_conformance.pytest_plugin import ConformanceRun

SCHEMA_VERSION = "1.0"  # of report.json; report.schema.json beside this module describes it
SCHEMA_PATH = Path(__file__).with_name("report.schema.json")
MIN_MEANINGFUL = 0.5  # above this share of credentialed requests answered 401, a pass means nothing
REASON_KEPT = 400


def build_report(run: ConformanceRun) -> dict[str, Any]:
    catalog = load_catalog()
    claimed = run.claimed
    extra: list[Failure] = []
    observed = run.state.observations
    if observed.responses and observed.auth_rejections / observed.responses > MIN_MEANINGFUL:
        extra.append(Failure("/req/auth/bearer-required", "tenant A's credentials accepted",
                             f"{observed.auth_rejections} of {observed.responses} credentialed requests answered 401: a meaningless pass is refused"))
    results = requirement_results(catalog, run.records, claimed, extra, run.state.evidence)
    outcome, problems = verdict(results, claimed, catalog)
    if run.state.dead:
        outcome, problems = FAIL, [f"the target stopped answering: {run.state.dead}", *problems]
    if run.state.pacer.exhausted:
        problems = [f"the run stopped early, {run.state.pacer.exhausted}: the tests left were skipped and the report is partial", *problems]
    if not run.settings.profile_settings.certification:  # said first, in every report: a smoke run certifies nothing, so never PASS
        problems = [f"profile {run.settings.profile}: a smoke run, NOT a certification; certify with --profile standard", *problems]
        outcome = "INCOMPLETE" if outcome == "PASS" else outcome
    counts = {status: sum(r.status == status for r in results) for status in STATUSES}
    tests = {outcome_name: sum(r.outcome == outcome_name for r in run.records) for outcome_name in ("passed", "failed", "skipped", "not_exercised", "blocked")}
    started = run.state.started_at.timestamp()
    finished = run.finished_at or started
    report = {
        "schema_version": SCHEMA_VERSION,
        "verdict": outcome,
        "problems": problems,
        "provenance": {
            "kit": "apollospace-conformance",
            "kit_version": __version__,
            "spec_sha256": spec_sha256(),
            "target": run.settings.url,
            "started_at": run.state.started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "finished_at": datetime.fromtimestamp(finished, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration_ms": max(0, round((finished - started) * 1000)),
            "seed": run.settings.seed,
            "profile": run.settings.profile,
            "certification": bool(run.settings.profile_settings.certification),  # False: a smoke run (quick), which certifies nothing
            "settings": run.settings.redacted(),
            "requests_sent": run.state.pacer.sent,
            "python": platform.python_version(),
            "schemathesis": _version_of("schemathesis"),
            "hypothesis": _version_of("hypothesis"),
        },
        "claimed_classes": sorted(claimed),
        "classes": class_status(results, claimed, catalog),
        "counts": {"requirements": counts, "tests": tests, "cases": len(run.records), "generated_cases": run.state.generated_cases,
                   "generated_cases_digest": run.state.case_digest.hexdigest()[:16]},
        "requirements": [as_dict(r) for r in results],
        "tests": [_test_entry(record, started) for record in run.records],
        "left_on_target": left_on_target(run.left_on_target),
        "partial": bool(run.state.dead or run.state.pacer.exhausted),
    }
    report[DIGEST_KEY] = digest_of(report)
    return report


def _test_entry(record: TestRecord, run_started: float) -> dict[str, Any]:
    """One test as report.json keeps it: its outcome and when it ran (milliseconds from the run's start: the timeline)."""
    started_ms = max(0, round((record.finished - record.duration - run_started) * 1000))
    return {"nodeid": record.nodeid, "requirements": record.requirements, "outcome": record.outcome, "reason": record.reason[:REASON_KEPT],
            "blocked_by": record.blocked_by, "started_ms": started_ms, "duration_ms": round(record.duration * 1000), "exchanges": record.exchanges}


def _version_of(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown"


def environment(*, html: bool) -> Environment:
    """The templates' environment. HTML is autoescaped whatever the template's name: a server's answer quoted in a
    certificate is text, never markup (select_autoescape once missed the .html.jinja name)."""
    env = Environment(loader=PackageLoader("apollospace_conformance.report", "templates"), undefined=StrictUndefined,
                      autoescape=html, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["anchor"] = anchor
    env.filters["code_spans"] = code_spans
    env.filters["md_code"] = md_code
    env.filters["md_text"] = md_text
    env.globals.update(charts=charts, statuses=STATUSES)
    return env


def anchor(requirement_id: str) -> str:
    """The HTML id of a requirement's section: /req/pagination/complete-walk -> req-pagination-complete-walk."""
    return requirement_id.strip("/").replace("/", "-")


def code_spans(text: str) -> Markup:
    """A requirement's words in HTML: escaped first, then its `backticked` parts as <code>."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


def md_code(text: str) -> str:
    """`text` as a Markdown code span: a viewer shows a server's markup as text, whatever backticks it holds."""
    text = " ".join(str(text).split())
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"


def md_text(text: str) -> str:
    """`text` in a Markdown table cell or line: no raw HTML, no column break."""
    return " ".join(str(text).split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def render_html(report: dict[str, Any]) -> str:
    claimed = set(report["claimed_classes"])
    classes = sorted(report["classes"].items(), key=lambda item: (item[0] not in claimed, item[0]))  # the claimed classes first
    return environment(html=True).get_template("certificate.html.jinja").render(report=report, classes=classes, timeline=charts.timeline(report))


def render_markdown(report: dict[str, Any]) -> str:
    return environment(html=False).get_template("certificate.md.jinja").render(report=report)


def write_reports(run: ConformanceRun) -> dict[str, str]:
    report = build_report(run)
    out = Path(run.settings.output)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "markdown": out / "certificate.md", "html": out / "certificate.html", "junit": out / "junit.xml"}
    paths["json"].write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    paths["markdown"].write_text(render_markdown(report), "utf-8")
    paths["html"].write_text(render_html(report), "utf-8")
    paths["junit"].write_bytes(junit_xml(report))
    run.report = report  # type: ignore[attr-defined]
    return {kind: str(path) for kind, path in paths.items()}


def summary_table(report: dict[str, Any]) -> str:
    """The terminal summary: one line per class with its requirement counts, the verdict, then why it did not pass."""
    short = {"PASS": "pass", "FAIL": "fail", "NOT EXERCISED": "unexer", "BLOCKED": "blocked", "SKIP": "skip"}
    lines = [f"{'class':14} {'status':10} " + " ".join(f"{name:>7}" for name in short.values())]
    for klass, status in sorted(report["classes"].items()):
        rows = [r for r in report["requirements"] if r["klass"] == klass]
        lines.append(f"{klass:14} {status:10} " + " ".join(f"{sum(r['status'] == full for r in rows):7}" for full in short))
    counts = report["counts"]["requirements"]
    tally = ", ".join(f"{counts[full]} {name}" for full, name in (("PASS", "passed"), ("FAIL", "failed"), ("NOT EXERCISED", "not exercised"), ("BLOCKED", "blocked"), ("SKIP", "skipped")))
    lines.append(f"verdict: {report['verdict']}  ({tally} requirements; {report['provenance']['requests_sent']} requests)")
    if report["problems"]:
        lines.append("why it did not pass:")
        lines.extend(f"  {problem}" for problem in report["problems"])
    return "\n".join(lines)
