"""The reports of a run: JSON for machines, a Markdown and an HTML certificate for people."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from apollospace_conformance import __version__
from apollospace_conformance.results import (
    FAIL,
    STATUSES,
    Failure,
    as_dict,
    class_status,
    requirement_results,
    verdict,
)
from apollospace_spec import load_catalog, spec_sha256

if TYPE_CHECKING:
    from apollospace_conformance.pytest_plugin import ConformanceRun

MIN_MEANINGFUL = 0.5  # above this share of credentialed requests answered 401, a pass means nothing


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
    counts = {status: sum(r.status == status for r in results) for status in STATUSES}
    tests = {outcome_name: sum(r.outcome == outcome_name for r in run.records) for outcome_name in ("passed", "failed", "skipped", "not_exercised", "blocked")}
    return {
        "verdict": outcome,
        "problems": problems,
        "provenance": {
            "kit": "apollospace-conformance",
            "kit_version": __version__,
            "spec_sha256": spec_sha256(),
            "target": run.settings.url,
            "started_at": run.state.started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "finished_at": datetime.fromtimestamp(run.finished_at or 0, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "seed": run.settings.seed,
            "profile": run.settings.profile,
            "settings": run.settings.redacted(),
            "requests_sent": run.state.pacer.sent,
        },
        "claimed_classes": sorted(claimed),
        "classes": class_status(results, claimed, catalog),
        "counts": {"requirements": counts, "tests": tests, "cases": len(run.records), "generated_cases": run.state.generated_cases,
                   "generated_cases_digest": run.state.case_digest.hexdigest()[:16]},
        "requirements": [as_dict(r) for r in results],
        "left_on_target": sorted(set(run.left_on_target)),
        "partial": bool(run.state.dead or run.state.pacer.exhausted),
    }


def _environment() -> Environment:
    return Environment(loader=PackageLoader("apollospace_conformance.report", "templates"), undefined=StrictUndefined,
                       autoescape=select_autoescape(["html", "html.jinja"]), trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def write_reports(run: ConformanceRun) -> dict[str, str]:
    report = build_report(run)
    out = Path(run.settings.output)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "markdown": out / "certificate.md", "html": out / "certificate.html"}
    paths["json"].write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    env = _environment()
    paths["markdown"].write_text(env.get_template("certificate.md.jinja").render(report=report, statuses=STATUSES), "utf-8")
    paths["html"].write_text(env.get_template("certificate.html.jinja").render(report=report, statuses=STATUSES), "utf-8")
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
