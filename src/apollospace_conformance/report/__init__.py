"""The reports of a run: JSON for machines, a Markdown and an HTML certificate for people."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from apollospace_conformance import __version__
from apollospace_conformance.results import (
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
    results = requirement_results(catalog, run.records, claimed, extra)
    outcome, problems = verdict(results, claimed, catalog)
    if run.state.dead:
        outcome, problems = "FAIL", [f"the target stopped answering: {run.state.dead}", *problems]
    counts = {status: sum(r.status == status for r in results) for status in ("PASS", "FAIL", "SKIP")}
    tests = {outcome_name: sum(r.outcome == outcome_name for r in run.records) for outcome_name in ("passed", "failed", "skipped")}
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
        "classes": class_status(results, claimed),
        "counts": {"requirements": counts, "tests": tests, "cases": len(run.records), "generated_cases": run.state.generated_cases,
                   "generated_cases_digest": run.state.case_digest.hexdigest()[:16]},
        "requirements": [as_dict(r) for r in results],
        "left_on_target": run.left_on_target,
        "partial": bool(run.state.dead),
    }


def _environment() -> Environment:
    return Environment(loader=PackageLoader("apollospace_conformance.report", "templates"), undefined=StrictUndefined,
                       autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def write_reports(run: ConformanceRun) -> dict[str, str]:
    report = build_report(run)
    out = Path(run.settings.output)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "markdown": out / "certificate.md", "html": out / "certificate.html"}
    paths["json"].write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    env = _environment()
    paths["markdown"].write_text(env.get_template("certificate.md.jinja").render(report=report), "utf-8")
    paths["html"].write_text(env.get_template("certificate.html.jinja").render(report=report), "utf-8")
    run.report = report  # type: ignore[attr-defined]
    return {kind: str(path) for kind, path in paths.items()}


def summary_table(report: dict[str, Any]) -> str:
    """The terminal summary: one line per class, then the verdict."""
    lines = [f"{'class':14} {'status':6} {'pass':>5} {'fail':>5} {'skip':>5}"]
    for klass, status in sorted(report["classes"].items()):
        rows = [r for r in report["requirements"] if r["klass"] == klass]
        lines.append(f"{klass:14} {status:6} {sum(r['status'] == 'PASS' for r in rows):5} {sum(r['status'] == 'FAIL' for r in rows):5} {sum(r['status'] == 'SKIP' for r in rows):5}")
    counts = report["counts"]["requirements"]
    lines.append(f"verdict: {report['verdict']}  ({counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped requirements; {report['provenance']['requests_sent']} requests)")
    return "\n".join(lines)
