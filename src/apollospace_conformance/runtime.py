"""The run the suite's modules belong to, reachable at collection time.

Schemathesis parametrizes tests when their module is imported, before any
fixture exists; the active run is how those modules read the settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apollospace_conformance.pytest_plugin import ConformanceRun

_ACTIVE: list[ConformanceRun] = []


def activate(run: ConformanceRun) -> None:
    _ACTIVE[:] = [run]


def active() -> ConformanceRun | None:
    return _ACTIVE[0] if _ACTIVE else None


def require() -> ConformanceRun:
    """The active run, for a suite module at import time; skips the whole module outside one."""
    import pytest  # only suite modules call this, inside pytest

    run = active()
    if run is None:
        pytest.skip("run through apollospace-conformance or with --apollospace-url", allow_module_level=True)
    return run
