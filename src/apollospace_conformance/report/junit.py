"""junit.xml for CI test views, written from report.json rather than by pytest.

One testcase per requirement of the catalog: classname its conformance class,
name its ID, outcome its status (PASS passed; FAIL a failure; NOT EXERCISED,
BLOCKED and SKIP skipped, typed by status). Written from the report itself,
so the two agree on every outcome by construction, interrupted tests included
(pytest's own junit counted a test stopped by the target going away as failed
where the report skipped it). It carries no tracebacks, locals nor hypothesis
statistics (pytest's held 309 KB of base64 for one failing run): only the
requirement's words, the failures' expected and received, a curl, and the
tests that cite it, each text cut short. When a run fails so widely that the
file would pass SIZE_BUDGET, it is written again with less detail per
requirement (report.json keeps it all).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from typing import Any

SIZE_BUDGET = 48_000  # bytes: CI views load it whole; stays under 50 KB
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Detail:
    failures: int  # failures written out per requirement
    text: int  # longest expected, received or curl
    tests: int  # tests named one by one per requirement (the fuzz layer cites many); the rest are counted
    output: bool  # the statement, reason and evidence samples as system-out


DETAILS = (Detail(3, 600, 5, True), Detail(1, 300, 2, True), Detail(0, 160, 0, False))


def suite_name(report: dict[str, Any]) -> str:
    provenance = report["provenance"]
    return f"{provenance['kit']} {provenance['kit_version']}"


def junit_xml(report: dict[str, Any]) -> bytes:
    """The report as JUnit XML, with the most detail that fits SIZE_BUDGET."""
    for detail in DETAILS:
        xml = _junit(report, detail)
        if len(xml) <= SIZE_BUDGET:
            break
    return xml


def _junit(report: dict[str, Any], detail: Detail) -> bytes:
    requirements = report["requirements"]
    statuses = Counter(r["status"] for r in requirements)
    failures = statuses["FAIL"]
    skipped = len(requirements) - failures - statuses["PASS"]
    provenance = report["provenance"]
    seconds = f"{provenance.get('duration_ms', 0) / 1000:.3f}"
    common = {"name": suite_name(report), "tests": str(len(requirements)), "failures": str(failures), "errors": "0", "skipped": str(skipped), "time": seconds}
    root = ET.Element("testsuites", common)
    suite = ET.SubElement(root, "testsuite", {**common, "timestamp": provenance["started_at"]})
    _properties(suite, [("verdict", report["verdict"]), ("target", provenance["target"]), ("profile", provenance["profile"]), ("seed", provenance["seed"]),
                        ("spec_sha256", provenance["spec_sha256"]), ("claimed_classes", ",".join(report["claimed_classes"])),
                        ("report_digest", report.get("digest", ""))])
    tests = {test["nodeid"]: test for test in report.get("tests", [])}
    for requirement in requirements:
        _testcase(suite, requirement, tests, detail)
    ET.indent(root, space=" ")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"


def _testcase(suite: ET.Element, requirement: dict[str, Any], tests: dict[str, dict[str, Any]], detail: Detail) -> None:
    citing = [tests[nodeid] for nodeid in requirement["tests"] if nodeid in tests]
    seconds = sum(test["duration_ms"] for test in citing) / 1000
    case = ET.SubElement(suite, "testcase", {"classname": requirement["klass"], "name": requirement["id"], "time": f"{seconds:.3f}"})
    outcomes = Counter(test["outcome"] for test in citing)
    named = sorted(citing, key=lambda test: (test["outcome"] == "passed", test["nodeid"]))[:detail.tests]
    _properties(case, [
        ("requirement", requirement["id"]), ("level", requirement["level"]),
        *((("evidence", requirement["evidence"]),) if requirement["evidence"] else ()),
        *(("blocked_by", blocker) for blocker in requirement["blocked_by"]),
        *((("tests", ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))),) if citing else ()),
        *(("test", f"{test['nodeid']}: {test['outcome']}") for test in named),
    ])
    status, reason = requirement["status"], requirement["reason"]
    message_limit = max(detail.text, 160)
    if status == "FAIL":
        shown = requirement["failures"][:max(1, detail.failures)]
        first = shown[0] if shown else None
        message = f"expected {first['expected']}; received {first['received']}" if first else reason
        failure = ET.SubElement(case, "failure", {"type": "FAIL", "message": _clean(message, message_limit)})
        if detail.failures:
            failure.text = "\n\n".join(_failure_text(f, detail.text) for f in shown[:detail.failures]) + _more(requirement, len(shown))
    elif status != "PASS":
        ET.SubElement(case, "skipped", {"type": status, "message": _clean(f"{status}: {reason}", message_limit)})
    if detail.output and requirement["tests"]:  # a requirement no test cites (class not claimed, spec property) needs no more words
        out = ET.SubElement(case, "system-out")
        out.text = _clean(f"{requirement['level']}: {requirement['statement']}" + "".join(f"\nevidence: {sample}" for sample in requirement["samples"]), 2 * detail.text)


def _failure_text(failure: dict[str, Any], limit: int) -> str:
    lines = [f"expected: {_clean(failure['expected'], limit)}", f"received: {_clean(failure['received'], limit)}"]
    if failure.get("test"):
        lines.append(f"test: {_clean(failure['test'], limit)}")
    if failure.get("reproduction"):
        lines.append(f"reproduce: {_clean(failure['reproduction'], limit)}")
    return "\n".join(lines)


def _more(requirement: dict[str, Any], shown: int) -> str:
    left = len(requirement["failures"]) - shown
    return f"\n\n... and {left} more failure(s) in report.json" if left > 0 else ""


def _properties(parent: ET.Element, pairs: list[tuple[str, Any]]) -> None:
    properties = ET.SubElement(parent, "properties")
    for name, value in pairs:
        ET.SubElement(properties, "property", {"name": name, "value": _clean(str(value), 600)})


def _clean(text: str, limit: int) -> str:
    """Characters XML 1.0 cannot carry (a NUL in a garbage answer) shown escaped; cut to `limit`."""
    text = _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."
