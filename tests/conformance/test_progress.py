"""The progress display: live with rich on a terminal, plain lines elsewhere, nothing of pytest's dots without -v."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from apollospace_conformance.progress import RunProgress, live_allowed


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@dataclass
class _Item:
    nodeid: str
    cited: list[str]

    def iter_markers(self, name: str) -> list[Any]:
        return [SimpleNamespace(args=tuple(self.cited))] if name == "requirement" else []


@dataclass
class _Run:
    records: list[Any] = field(default_factory=list)
    state: Any = field(default_factory=lambda: SimpleNamespace(pacer=SimpleNamespace(sent=0)))


def _drive(progress: RunProgress, run: _Run) -> None:
    items = [_Item("test_pagination.py::test_complete_walk", ["/req/pagination/complete-walk"]),
             _Item("test_auth.py::test_bearer_required", ["/req/auth/bearer-required"])]
    progress.pytest_collection_finish(SimpleNamespace(items=items))  # type: ignore[arg-type]
    for item in items:
        progress.pytest_runtest_logstart(item.nodeid, ("", None, ""))
        run.state.pacer.sent += 21
        run.records.append(SimpleNamespace(outcome="failed"))
        progress.pytest_runtest_logfinish(item.nodeid, ("", None, ""))
    progress.pytest_sessionfinish(SimpleNamespace())  # type: ignore[arg-type]


def test_live_only_on_a_terminal_outside_ci() -> None:
    assert live_allowed(_Terminal(), {"TERM": "xterm"})
    assert not live_allowed(_Terminal(), {"TERM": "xterm", "CI": "true"})
    assert not live_allowed(io.StringIO(), {})


def test_plain_lines_name_class_requirement_requests_failures_and_eta() -> None:
    stream, run = io.StringIO(), _Run()
    _drive(RunProgress(run, verbose=False, stream=stream, live=False), run)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("apollospace-conformance: [0/2] pagination · /req/pagination/complete-walk · 0 requests · 0 failed · ETA --")
    assert any(line.startswith("apollospace-conformance: [1/2] auth · /req/auth/bearer-required · 21 requests · 1 failed · ETA ") for line in lines)
    assert lines[-1].startswith("apollospace-conformance: [2/2]") and "42 requests · 2 failed · ETA 0:00" in lines[-1]


def test_live_display_with_rich() -> None:
    stream, run = _Terminal(), _Run()
    progress = RunProgress(run, verbose=False, stream=stream, live=True)
    _drive(progress, run)
    shown = stream.getvalue()
    assert "auth · /req/auth/bearer-required" in shown and "42 requests · 2 failed" in shown and "2/2" in shown


@pytest.mark.parametrize(("verbose", "shown"), [(False, ("passed", "", "")), (True, ("passed", ".", "PASSED"))])
def test_pytest_letters_give_way_unless_verbose(verbose: bool, shown: tuple[str, str, str]) -> None:
    hook = RunProgress(_Run(), verbose=verbose, stream=io.StringIO(), live=False).pytest_report_teststatus(None, None)  # type: ignore[arg-type]
    next(hook)
    outcome = SimpleNamespace(result=("passed", ".", "PASSED"), get_result=lambda: outcome.result)
    outcome.force_result = lambda value: setattr(outcome, "result", value)
    with pytest.raises(StopIteration):
        hook.send(outcome)
    assert outcome.result == shown
