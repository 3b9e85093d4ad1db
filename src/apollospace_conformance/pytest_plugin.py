"""The pytest side of the kit: options, fixtures, requirement tracing and the reports.

Installed as a pytest plugin (entry point `apollospace_conformance`) it stays
inert until a target is given (`--apollospace-url`, `--apollospace-credentials-file`
or their APOLLOSPACE_CONFORMANCE_* variables), so it never touches a partner's
own test runs: without a target, a test that asks for `api`, `api_b` or `kit`
is skipped and says what to pass. With one, a session that runs the kit's
suite gets the same preflight as `apollospace-conformance certify`, writes the
same reports, and exits non-zero unless the verdict is PASS. `--collect-only`
and sessions of other tests send nothing and write nothing.

Selection: `-m pagination` (a conformance class, `-` spelled `_`),
`-k /req/pagination/complete-walk` (a requirement ID, or part of one).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apollospace_conformance import runtime
from apollospace_conformance.evidence import NOT_EXERCISED_PREFIX, blocking_requirement
from apollospace_conformance.http import BudgetExhausted, KitClient, TargetUnreachable
from apollospace_conformance.locate import suite_root
from apollospace_conformance.masking import install_log_masking
from apollospace_conformance.results import (
    Failure,
    TestRecord,
    failures_from_exception,
    has_verdict,
)
from apollospace_conformance.session import KitSession, TestActivity
from apollospace_conformance.settings import (
    ENV_PREFIX,
    PLUGIN_PREFIX,
    ConfigError,
    KitSettings,
    env_name,
    load_settings,
    option_arguments,
)

NO_TARGET = ("no Apollo Space target configured: pass --apollospace-url (or --apollospace-credentials-file), "
             f"or set {env_name('url')} and {env_name('token_a')}")
EXIT_NOT_PASS = pytest.ExitCode.TESTS_FAILED  # pytest's exit codes have fixed meanings: FAIL and INCOMPLETE both exit 1 here


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("apollospace-conformance", "Apollo Space conformance kit (the options of `apollospace-conformance certify`)")
    for name, option in KitSettings.options():
        group.addoption(PLUGIN_PREFIX + name.replace("_", "-"), dest=f"apollospace_{name}", **option_arguments(option))
    group.addoption(PLUGIN_PREFIX + "config", dest="apollospace_config", default=None, help="TOML settings file")


def class_marker(klass: str) -> str:
    """The -m marker of a conformance class: rate-limits -> rate_limits."""
    return klass.replace("-", "_")


def pytest_configure(config: pytest.Config) -> None:
    from apollospace_spec import load_catalog

    config.addinivalue_line("markers", "requirement(*ids): the requirement IDs of spec/requirements.yaml this test verifies")
    config.addinivalue_line("markers", "observational: the test runs response checks on many exchanges; its pass is no evidence, the checks count their own")
    config.addinivalue_line("markers", "waits(reason): the test waits on the server's clock (a retry schedule); the quick profile leaves it out")
    for klass, description in load_catalog().classes.items():
        config.addinivalue_line("markers", f"{class_marker(klass)}: the kit's tests of conformance class {klass} ({description})")
    if any(isinstance(plugin, ConformanceRun) for plugin in config.pluginmanager.get_plugins()):
        return  # the CLI registered a run with its own settings
    given = {name: config.getoption(f"apollospace_{name}") for name, _ in KitSettings.options()}
    if given["url"] is None and given["credentials_file"] is None and not os.environ.get(ENV_PREFIX + "URL") \
            and not os.environ.get(ENV_PREFIX + "CREDENTIALS_FILE"):
        return
    try:
        settings = load_settings(given, config.getoption("apollospace_config"))
    except ConfigError as exc:
        raise pytest.UsageError(f"apollospace-conformance: {exc}") from None
    config.pluginmanager.register(ConformanceRun(settings, standalone=True), "apollospace-conformance-run")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Before -m and -k select: each test carries its classes as markers and its requirement IDs as keywords."""
    for item in items:
        cited = requirement_ids(item)
        for klass in sorted({rid.split("/")[2] for rid in cited if rid.count("/") >= 3}):
            item.add_marker(class_marker(klass))
        item.extra_keyword_matches.update(cited)


def requirement_ids(item: pytest.Item) -> list[str]:
    return [rid for mark in item.iter_markers("requirement") for rid in mark.args]


def is_suite_item(item: pytest.Item) -> bool:
    """A test of the kit's own suite (not a partner's test that happens to run in the same session)."""
    return Path(str(item.path)).resolve().is_relative_to(suite_root().resolve())


# --- fixtures: usable from a partner's own tests; skipped with a reason when no target is given ---


def _active_state() -> KitSession:
    run = runtime.active()
    if run is None:
        pytest.skip(NO_TARGET)
    return run.state


@pytest.fixture(scope="session")
def kit() -> KitSession:
    """The run: settings, spec index, clients, observations."""
    return _active_state()


@pytest.fixture(scope="session")
def api() -> KitClient:
    """A client acting as tenant A."""
    return _active_state().tenant_a


@pytest.fixture(scope="session")
def api_b() -> KitClient:
    """A client acting as tenant B (skips the test when no tenant B was given)."""
    state = _active_state()
    if state.tenant_b is None:
        pytest.skip("no tenant B credentials (--token-b, --org-b)")
    return state.tenant_b


class ConformanceRun:
    """One certification run inside pytest."""

    def __init__(self, settings: KitSettings, *, standalone: bool = False) -> None:
        self.settings = settings
        self.standalone = standalone  # run by a plain `pytest` (not the CLI): preflight, exit status and summary are the plugin's
        self.selected_classes: set[str] | None = None  # the classes -m / -k left, when they narrowed the run
        self.suite_ran = False  # a test of the suite ran: only then are reports written
        self.state = KitSession(settings)
        self.records: list[TestRecord] = []
        self.extra_failures: list[Failure] = []
        self.finished_at: float | None = None
        self.report_paths: dict[str, str] = {}
        self.left_on_target: list[str] = []
        self.fixture_exchanges: dict[str, tuple[int, list[str]]] = {}  # fixture -> the exchanges it sent, and a few of them
        self.call_exchanges = 0  # what the running test sent in its own body
        runtime.activate(self)
        install_log_masking(self.state.redact)

    # --- collection ----------------------------------------------------------------
    @property
    def claimed(self) -> set[str]:
        from apollospace_spec import load_catalog

        classes = set(self.settings.include_classes) or set(load_catalog().classes)
        classes -= set(self.settings.exclude_classes)
        return classes & self.selected_classes if self.selected_classes is not None else classes

    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
        claimed = self.claimed
        keep, drop = [], []
        profile = self.settings.profile_settings
        for item in items:
            waits = item.get_closest_marker("waits")
            if waits is not None and profile.skip_slow:
                item.add_marker(pytest.mark.skip(reason=f"the {profile.name} profile is a smoke run and leaves out tests that wait on the "
                                                        f"server's clock ({waits.args[0] if waits.args else 'a schedule'}); run --profile standard"))
            cited = requirement_ids(item)
            classes = {rid.split("/")[2] for rid in cited}
            (keep if not cited or classes & claimed else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
        # The observation summaries must see every response: they run last; the rate-limit probe just before.
        keep.sort(key=lambda item: (2 if "test_observed" in item.nodeid else 1 if "rate_limit_probe" in item.nodeid else 0))
        items[:] = keep

    @pytest.hookimpl(trylast=True, specname="pytest_collection_modifyitems")
    def narrow_to_selection(self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
        """After -m / -k: a run narrowed to some classes claims only those (its verdict covers what it ran)."""
        if config.option.markexpr or config.option.keyword:
            self.selected_classes = {rid.split("/")[2] for item in items if is_suite_item(item) for rid in requirement_ids(item)}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """A plain pytest run of the suite gets the CLI's preflight: a target it cannot certify is refused before any test."""
        if not self.standalone or session.config.option.collectonly or not any(is_suite_item(item) for item in session.items):
            return
        from apollospace_conformance.preflight import preflight

        try:
            preflight(self.settings, self.claimed, lambda line: print(f"apollospace-conformance: warning: {line}", file=sys.stderr, flush=True))
        except (ConfigError, TargetUnreachable) as exc:
            raise pytest.UsageError(f"apollospace-conformance: {exc}") from None

    # --- outcomes ------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.state.activity = TestActivity()  # what this test sends and breaks, its setup included
        # A partner's own --junitxml names the requirements too (the kit's junit.xml is written from report.json).
        item.user_properties.extend(("requirement", rid) for rid in requirement_ids(item))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        """No hypothesis statistics in a partner's --junitxml: base64 blobs (309 KB for one failing run) nobody reads there."""
        item.__dict__.pop("hypothesis_statistics", None)

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
        if is_suite_item(item) and report.when == "call":
            self.suite_ran = True
        self._mask(report)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> Iterator[None]:
        outcome = yield
        self._mask(outcome.get_result())

    def _mask(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        """What pytest shows of a report (terminal, -l locals, assertion rewriting, junit, captured output) without a secret."""
        longrepr = report.longrepr
        if isinstance(longrepr, tuple) and len(longrepr) == 3:
            report.longrepr = (longrepr[0], longrepr[1], self.state.redact(str(longrepr[2])))
        elif longrepr is not None:
            report.longrepr = self.state.redact(report.longreprtext)
        report.sections = [(title, self.state.redact(content)) for title, content in report.sections]

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
        """Reports, only when the suite ran: not for --collect-only, nor a session of other tests."""
        from apollospace_conformance.report import write_reports

        if not self.suite_ran:
            return
        if self.state.dead is None:
            try:
                self.left_on_target = self.state.cleanup()
            except TargetUnreachable as exc:
                self.state.dead = str(exc)
        self.finished_at = time.time()
        self.report_paths = write_reports(self)
        verdict = getattr(self, "report", {}).get("verdict")
        if self.standalone and verdict != "PASS" and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = EXIT_NOT_PASS

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.standalone or not self.report_paths:
            return
        report = getattr(self, "report", {})
        terminalreporter.write_sep("=", f"apollospace-conformance: verdict {report.get('verdict')}")
        for kind, path in self.report_paths.items():
            terminalreporter.write_line(f"  {kind:9} {path}")
