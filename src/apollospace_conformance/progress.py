"""What a run shows while it runs: the class and requirement being checked, requests sent, failures so far, an ETA.

On a terminal (and `CI` unset) a rich live display on stderr replaces pytest's
dots; otherwise plain lines: one when the run reaches a new conformance class,
and a heartbeat when a test keeps the run busy for HEARTBEAT_SECONDS, so a CI
log never goes silent for long. With `-v` pytest's per-test lines stay and
the live display is not used (plain lines go along with them).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, TextIO

import pytest

HEARTBEAT_SECONDS = 10.0


def live_allowed(stream: TextIO, environ: dict[str, str] | None = None) -> bool:
    """A live display only on a terminal, and never in CI (whose logs keep every repaint)."""
    environ = dict(os.environ if environ is None else environ)
    return stream.isatty() and not environ.get("CI") and environ.get("TERM") != "dumb"


class RunProgress:
    """A pytest plugin object; `requests` and `failures` are read from the run at each repaint."""

    def __init__(self, run: Any, *, verbose: bool, stream: TextIO | None = None, live: bool | None = None) -> None:
        self.run = run
        self.stream = stream or sys.stderr
        self.verbose = verbose
        self.live = (live if live is not None else live_allowed(self.stream)) and not verbose
        self.total = 0
        self.done = 0
        self.current = ""  # "class · requirement"
        self.klass = ""
        self.started = time.monotonic()
        self._last_line = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._progress: Any = None
        self._task: Any = None
        self._items: dict[str, pytest.Item] = {}

    # --- numbers ----------------------------------------------------------------------
    @property
    def requests(self) -> int:
        return int(self.run.state.pacer.sent)

    @property
    def failures(self) -> int:
        return sum(1 for record in self.run.records if record.outcome == "failed")

    def eta(self) -> float | None:
        """Seconds left, from the pace so far (None before the first test ends)."""
        if not self.done or self.done >= self.total:
            return None if not self.done else 0.0
        elapsed = time.monotonic() - self.started
        return elapsed / self.done * (self.total - self.done)

    def line(self) -> str:
        eta = self.eta()
        shown = "--" if eta is None else f"{int(eta) // 60}:{int(eta) % 60:02d}"
        return (f"apollospace-conformance: [{self.done}/{self.total}] {self.current or 'starting'} · {self.requests} requests · "
                f"{self.failures} failed · ETA {shown}")

    # --- pytest hooks -----------------------------------------------------------------
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = len(session.items)
        self._items = {item.nodeid: item for item in session.items}
        self.started = time.monotonic()
        if self.live:
            self._start_live()
        self._thread = threading.Thread(target=self._heartbeat, name="apollospace-progress", daemon=True)
        self._thread.start()

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        item = self._items.get(nodeid)
        cited = [rid for mark in item.iter_markers("requirement") for rid in mark.args] if item is not None else []
        classes = {rid.split("/")[2] for rid in cited if rid.count("/") >= 3}
        module = nodeid.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py").removeprefix("test_")
        klass = classes.pop() if len(classes) == 1 else module  # a test across classes (the fuzz layer) shows its module
        self.current = f"{klass} · {cited[0] if len(cited) == 1 else f'{len(cited)} requirements' if cited else nodeid.split('::')[-1]}"
        if klass != self.klass:
            self.klass = klass
            if not self.live:
                self._print(self.line())
        self._refresh()

    def pytest_runtest_logfinish(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        self.done += 1
        self._refresh()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_report_teststatus(self, report: pytest.TestReport, config: pytest.Config) -> Any:
        """Without -v, pytest's letters and dots give way to the display (the outcome category is kept for the counts)."""
        outcome = yield
        if not self.verbose:
            category, _, _ = outcome.get_result()
            outcome.force_result((category, "", ""))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self._stop.set()
        if self._progress is not None:
            self._refresh()
            self._progress.stop()
            self._progress = None
        elif self.total:
            self._print(self.line())

    # --- output -----------------------------------------------------------------------
    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)
        self._last_line = time.monotonic()

    def _heartbeat(self) -> None:
        while not self._stop.wait(1.0):
            if not self.live and time.monotonic() - self._last_line >= HEARTBEAT_SECONDS:
                self._print(self.line())

    def _start_live(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        progress = self

        class Counts(TextColumn):
            def render(self, task: Any) -> Any:
                from rich.text import Text

                failed = progress.failures
                return Text(f"{progress.requests} requests · {failed} failed", style="red" if failed else "")

        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), Counts(""), TextColumn("ETA"), TimeRemainingColumn(),
            console=Console(file=self.stream), transient=False, refresh_per_second=4,
        )
        self._task = self._progress.add_task("starting", total=self.total)
        self._progress.start()

    def _refresh(self) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=self.done, description=self.current)
