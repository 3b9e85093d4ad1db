"""The pytest side of the kit: options, fixtures, requirement tracing and the reports.

Installed as a pytest plugin (entry point `apollospace_conformance`) it stays
inert until `--apollospace-url` (or APOLLOSPACE_CONFORMANCE_URL) is given, so it
never touches a partner's own test runs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apollospace_conformance import runtime
from apollospace_conformance.evidence import NOT_EXERCISED_PREFIX, blocking_requirement
from apollospace_conformance.http import BudgetExhausted, KitClient, TargetUnreachable
from apollospace_conformance.results import (
    Failure,
    TestRecord,
    failures_from_exception,
    has_verdict,
)
from apollospace_conformance.session import KitSession, TestActivity
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
    "rate_limit_probe": "flood tenant B's billable calls, then its reads, up to their limits: 429, an honest Retry-After, limits per organization and operation type (true/false)",
    "probe_max_requests": "most requests the rate-limit probe may send (the billable flood uses at most a fifth)",
    "webhook_bind": "HOST:PORT the kit's webhook receiver listens on",
    "webhook_public_url": "URL the server under test should call to reach the receiver",
    "output": "folder for the reports",
    "timeout": "longest wait in seconds for one whole answer (default: the spec's documented response time)",
    "max_duration": "seconds after which the run sends nothing more; the tests left are skipped",
    "credentials_file": "JSON with the URL and every credential, as apollospace-refserver serve --credentials-file writes it",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("apollospace-conformance", "Apollo Space conformance kit")
    for name, help_text in OPTION_FIELDS.items():
        group.addoption(f"--apollospace-{name.replace('_', '-')}", dest=f"apollospace_{name}", default=None, help=help_text)
    group.addoption("--apollospace-config", dest="apollospace_config", default=None, help="TOML settings file")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(*ids): the requirement IDs of spec/requirements.yaml this test verifies")
    config.addinivalue_line("markers", "observational: the test runs response checks on many exchanges; its pass is no evidence, the checks count their own")
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
        self.fixture_exchanges: dict[str, tuple[int, list[str]]] = {}  # fixture -> the exchanges it sent, and a few of them
        self.call_exchanges = 0  # what the running test sent in its own body
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
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.state.activity = TestActivity()  # what this test sends and breaks, its setup included

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest) -> Iterator[None]:
        """Remember the exchanges a fixture gathered: they are evidence for every test that judges its result."""
        before, samples = self.state.activity.exchanges, len(self.state.activity.samples)
        yield
        sent = self.state.activity.exchanges - before
        if sent:
            self.fixture_exchanges[fixturedef.argname] = (sent, self.state.activity.samples[samples:])

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        before = self.state.activity.exchanges
        yield
        self.call_exchanges = self.state.activity.exchanges - before

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        if call.excinfo is not None and call.excinfo.errisinstance(BudgetExhausted):
            report.outcome = "skipped"
            report.longrepr = (str(item.path), 0, f"Skipped: {call.excinfo.value}")
        # The liveness verdict is on the pacer even when a test swallowed the TargetUnreachable it raised.
        unreachable = str(call.excinfo.value) if call.excinfo is not None and call.excinfo.errisinstance(TargetUnreachable) else self.state.pacer.unreachable
        if unreachable is not None and self.state.dead is None:
            self.state.dead = unreachable
            item.session.shouldstop = f"the target stopped answering: {unreachable}"
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self._record(item, report, call)

    def _record(self, item: pytest.Item, report: pytest.TestReport, call: pytest.CallInfo[Any]) -> None:
        cited = requirement_ids(item)
        activity = self.state.activity
        used = [self.fixture_exchanges[name] for name in getattr(item, "fixturenames", ()) if name in self.fixture_exchanges]
        record = TestRecord(item.nodeid, cited, report.outcome, duration=report.duration,
                            exchanges=(self.call_exchanges if report.when == "call" else 0) + sum(sent for sent, _ in used),
                            samples=[*activity.samples, *(sample for _, samples in used for sample in samples)][:3],
                            observational=item.get_closest_marker("observational") is not None)
        if report.outcome == "skipped":
            longrepr = report.longrepr
            record.reason = str(longrepr[2] if isinstance(longrepr, tuple) else longrepr).removeprefix("Skipped: ")
            blocker = blocking_requirement(record.reason)
            if blocker is not None:
                record.outcome, record.blocked_by = "blocked", [blocker]
            elif record.reason.startswith(NOT_EXERCISED_PREFIX):
                record.outcome, record.reason = "not_exercised", record.reason.removeprefix(NOT_EXERCISED_PREFIX)
        elif report.outcome == "failed" and call.excinfo is not None:
            if call.excinfo.errisinstance(TargetUnreachable):
                record.outcome, record.reason = "skipped", "the target stopped answering"
            else:
                self._trace(item, report)
                self._judge(record, call.excinfo.value, activity.broken)
        self.records.append(record)

    def _judge(self, record: TestRecord, error: BaseException, broken: set[str]) -> None:
        """FAIL for what the test cites, or BLOCKED when what broke was another requirement on the way.

        A test whose only violations are of requirements it does not cite (a
        shared step that creates a lead found the create answering 200) could not
        judge its own: it is BLOCKED by those, which fail on their own. A test
        that ends in an unexpected error (a KeyError on a body that is not the
        documented one, a fixture that could not set up) after the server broke
        another claimed requirement on the way is BLOCKED by that one.
        """
        cited = record.requirements
        failures = failures_from_exception(error, record.nodeid, cited)
        if not has_verdict(error, cited):
            claimed = self.claimed
            accident = sorted(rid for rid in broken if rid not in cited and rid.split("/")[2] in claimed)
            if accident:
                record.outcome, record.blocked_by = "blocked", accident
                record.reason = f"an earlier step broke {', '.join(accident)}, then {type(error).__name__}"
                return
        record.failures = failures
        foreign = sorted({f.requirement for f in failures} - set(cited))
        if foreign and not any(f.requirement in cited for f in failures):
            record.outcome, record.blocked_by = "blocked", foreign
            record.reason = f"a step it depends on broke {', '.join(foreign)}"

    def _trace(self, item: pytest.Item, report: pytest.TestReport) -> None:
        """Tracebacks go to a log in the output folder, never to the terminal."""
        out = Path(self.settings.output)
        out.mkdir(parents=True, exist_ok=True)
        with (out / "tracebacks.log").open("a", encoding="utf-8") as log:
            log.write(f"=== {item.nodeid} ({report.when})\n{self.state.redact(report.longreprtext)}\n\n")

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        (Path(self.settings.output) / "tracebacks.log").unlink(missing_ok=True)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        from apollospace_conformance.report import write_reports

        if self.state.dead is None:
            try:
                self.left_on_target = self.state.cleanup()
            except TargetUnreachable as exc:
                self.state.dead = str(exc)
        self.finished_at = time.time()
        self.report_paths = write_reports(self)
