"""The pytest side of the kit: options, fixtures, requirement tracing and the reports.

Installed as a pytest plugin (entry point `apollospace_conformance`) it stays
inert until `--apollospace-url` (or APOLLOSPACE_CONFORMANCE_URL) is given, so it
never touches a partner's own test runs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from apollospace_conformance import runtime
from apollospace_conformance.http import BudgetExhausted, KitClient, TargetUnreachable
from apollospace_conformance.results import Failure, TestRecord, failures_from_exception
from apollospace_conformance.session import KitSession
from apollospace_conformance.settings import ENV_PREFIX, ConfigError, KitSettings, load_settings

OPTION_FIELDS = {
    "url": "base URL of the server under test, including /v1",
    "token_a": "bearer token of tenant A (never printed)",
    "org_a": "organization id of tenant A",
    "token_b": "bearer token of tenant B, an organization tenant A's user is not a member of",
    "org_b": "organization id of tenant B",
    "expired_token": "an expired token of tenant A's user (optional)",
    "member_token": "a token of a member (role member) of tenant A's organization (optional)",
    "viewer_token": "a token of a viewer (role viewer) of tenant A's organization (optional)",
    "include_classes": "comma-separated conformance classes to claim (default: all)",
    "exclude_classes": "comma-separated conformance classes not to claim",
    "profile": "quick, standard or thorough",
    "seed": "seed for every generated case",
    "max_requests": "request budget of the run",
    "max_rate": "most requests per second (0: unlimited)",
    "rate_limit_probe": "burst one operation type of tenant B up to its rate limit (true/false)",
    "probe_max_requests": "most requests the rate-limit probe may send",
    "webhook_bind": "HOST:PORT the kit's webhook receiver listens on",
    "webhook_public_url": "URL the server under test should call to reach the receiver",
    "output": "folder for the reports",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("apollospace-conformance", "Apollo Space conformance kit")
    for name, help_text in OPTION_FIELDS.items():
        group.addoption(f"--apollospace-{name.replace('_', '-')}", dest=f"apollospace_{name}", default=None, help=help_text)
    group.addoption("--apollospace-config", dest="apollospace_config", default=None, help="TOML settings file")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(*ids): the requirement IDs of spec/requirements.yaml this test verifies")
    if any(isinstance(plugin, ConformanceRun) for plugin in config.pluginmanager.get_plugins()):
        return  # the CLI registered a run with its own settings
    given = {name: config.getoption(f"apollospace_{name}") for name in OPTION_FIELDS}
    if given["url"] is None and not os.environ.get(ENV_PREFIX + "URL"):
        return
    try:
        settings = load_settings(given, config.getoption("apollospace_config"))
    except ConfigError as exc:
        raise pytest.UsageError(f"apollospace-conformance: {exc}") from None
    config.pluginmanager.register(ConformanceRun(settings), "apollospace-conformance-run")


def requirement_ids(item: pytest.Item) -> list[str]:
    return [rid for mark in item.iter_markers("requirement") for rid in mark.args]


class ConformanceRun:
    """One certification run inside pytest."""

    def __init__(self, settings: KitSettings) -> None:
        self.settings = settings
        self.state = KitSession(settings)
        self.records: list[TestRecord] = []
        self.extra_failures: list[Failure] = []
        self.finished_at: float | None = None
        self.report_paths: dict[str, str] = {}
        self.left_on_target: list[str] = []
        runtime.activate(self)

    # --- fixtures ------------------------------------------------------------------
    @pytest.fixture(scope="session")
    def kit(self) -> KitSession:
        """The run: settings, spec index, clients, observations."""
        return self.state

    @pytest.fixture(scope="session")
    def api(self) -> KitClient:
        """A client acting as tenant A."""
        return self.state.tenant_a

    @pytest.fixture(scope="session")
    def api_b(self) -> KitClient:
        """A client acting as tenant B (skips the test when no tenant B was given)."""
        if self.state.tenant_b is None:
            pytest.skip("no tenant B credentials (--token-b, --org-b)")
        return self.state.tenant_b

    # --- collection ----------------------------------------------------------------
    @property
    def claimed(self) -> set[str]:
        from apollospace_spec import load_catalog

        classes = set(self.settings.include_classes) or set(load_catalog().classes)
        return classes - set(self.settings.exclude_classes)

    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
        claimed = self.claimed
        keep, drop = [], []
        for item in items:
            cited = requirement_ids(item)
            classes = {rid.split("/")[2] for rid in cited}
            (keep if not cited or classes & claimed else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
        # The observation summaries must see every response: they run last; the rate-limit probe just before.
        keep.sort(key=lambda item: (2 if "test_observed" in item.nodeid else 1 if "rate_limit_probe" in item.nodeid else 0))
        items[:] = keep

    # --- outcomes ------------------------------------------------------------------
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        if call.excinfo is not None and call.excinfo.errisinstance(BudgetExhausted):
            report.outcome = "skipped"
            report.longrepr = (str(item.path), 0, f"Skipped: {call.excinfo.value}")
        if call.excinfo is not None and call.excinfo.errisinstance(TargetUnreachable):
            self.state.dead = str(call.excinfo.value)
            item.session.shouldstop = f"the target stopped answering: {call.excinfo.value}"
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self._record(item, report, call)

    def _record(self, item: pytest.Item, report: pytest.TestReport, call: pytest.CallInfo[Any]) -> None:
        cited = requirement_ids(item)
        record = TestRecord(item.nodeid, cited, report.outcome, duration=report.duration)
        if report.outcome == "skipped":
            longrepr = report.longrepr
            record.reason = str(longrepr[2] if isinstance(longrepr, tuple) else longrepr).removeprefix("Skipped: ")
        elif report.outcome == "failed" and call.excinfo is not None:
            if call.excinfo.errisinstance(TargetUnreachable):
                record.outcome, record.reason = "skipped", "the target stopped answering"
            else:
                record.failures = failures_from_exception(call.excinfo.value, item.nodeid, cited)
        self.records.append(record)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        from apollospace_conformance.report import write_reports

        if self.state.dead is None:
            try:
                self.left_on_target = self.state.cleanup()
            except TargetUnreachable as exc:
                self.state.dead = str(exc)
        self.finished_at = time.time()
        self.report_paths = write_reports(self)
