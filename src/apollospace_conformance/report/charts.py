"""The certificate's pictures as plain geometry; the HTML template draws them as inline SVG (no network, no script)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# One color per requirement status, and the test outcomes that lead to it.
COLORS = {"PASS": "#1a7f37", "FAIL": "#cf222e", "NOT EXERCISED": "#d4a72c", "BLOCKED": "#8250df", "SKIP": "#afb8c1"}
PHASE_COLOR = "#54aeff"
OUTCOME_STATUS = {"passed": "PASS", "failed": "FAIL", "not_exercised": "NOT EXERCISED", "blocked": "BLOCKED", "skipped": "SKIP"}
BAR_WIDTH = 260
TIMELINE_WIDTH = 760  # the drawing area, right of the row labels
ROW_HEIGHT = 16


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    color: str
    label: str


def class_bar(rows: list[dict[str, Any]], statuses: tuple[str, ...]) -> list[Segment]:
    """A stacked bar of a class's requirements by status, BAR_WIDTH wide, in the order of `statuses`."""
    total = len(rows) or 1
    segments, x = [], 0.0
    for status in statuses:
        count = sum(row["status"] == status for row in rows)
        if count:
            width = BAR_WIDTH * count / total
            segments.append(Segment(round(x, 2), round(width, 2), COLORS[status], f"{count} {status}"))
            x += width
    return segments


@dataclass(frozen=True)
class Timeline:
    rows: list[tuple[str, list[Segment]]]  # a test module, and its tests as bars
    ticks: list[tuple[float, str]]  # x, label (seconds from the start)
    seconds: float

    @property
    def height(self) -> int:
        return ROW_HEIGHT * len(self.rows) + 24


def timeline(report: dict[str, Any]) -> Timeline:
    """Each test of the run as a bar on its module's row, placed by when it ran and colored by its outcome."""
    tests = report.get("tests", [])
    span_ms = max([report["provenance"].get("duration_ms", 0), *(t["started_ms"] + t["duration_ms"] for t in tests)]) or 1
    scale = TIMELINE_WIDTH / span_ms
    modules: dict[str, list[Segment]] = {}
    for test in sorted(tests, key=lambda t: t["started_ms"]):
        module = test["nodeid"].split("::", 1)[0].removesuffix(".py")
        label = f"{test['nodeid']}: {test['outcome'].replace('_', ' ')}, {test['duration_ms'] / 1000:.1f} s"
        bar = Segment(round(test["started_ms"] * scale, 2), round(max(1.5, test["duration_ms"] * scale), 2), COLORS[OUTCOME_STATUS[test["outcome"]]], label)
        modules.setdefault(module, []).append(bar)
    if tests:
        first, last = min(t["started_ms"] for t in tests), max(t["started_ms"] + t["duration_ms"] for t in tests)
        phases = [(0, first, "before the first test: preflight, collection, fixtures"), (last, span_ms, "after the last test: cleanup, reports")]
        modules = {"(the run)": [Segment(round(start * scale, 2), round((end - start) * scale, 2), PHASE_COLOR, f"{label}, {(end - start) / 1000:.1f} s")
                                 for start, end, label in phases if end > start], **modules}
    step = _tick_step(span_ms / 1000)
    ticks = [(round(i * step * 1000 * scale, 2), f"{i * step:g} s") for i in range(int(span_ms / 1000 // step) + 1)]
    return Timeline(list(modules.items()), ticks, span_ms / 1000)


def _tick_step(seconds: float) -> float:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800):
        if seconds / step <= 10:
            return step
    return 3600
