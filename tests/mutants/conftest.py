"""Prints the catalog's score at the end of the run."""

from __future__ import annotations

import pytest

from tests.mutants import test_catalog


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    results = test_catalog._RESULTS
    alarms = test_catalog._FALSE_ALARMS
    # make mutants runs the variants and the reference seeds in two processes: each prints the line of what it ran.
    if results:
        terminalreporter.write_line(f"mutation score: {sum(results.values())}/{len(results)} variants caught with exactly the expected requirements")
    if alarms:
        terminalreporter.write_line(f"false alarms on the reference server: {sum(alarms.values())} failed requirement(s) over {len(alarms)} seed(s)")
