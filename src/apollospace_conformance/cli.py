"""`apollospace-conformance`: certify a server by URL against the Apollo Space v1 contract."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from apollospace_conformance import __version__
from apollospace_conformance.locate import suite_root
from apollospace_conformance.settings import (
    PROFILE_SETTINGS,
    ConfigError,
    KitSettings,
    from_credentials,
    load_settings,
    option_arguments,
)

SUITE = suite_root()
EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
EMBEDDED_START_SECONDS = 120  # the reference server starts in about 2 s; a machine shared by many runs needs far more


class Unreachable(Exception):
    """The target cannot be certified at all: one line, exit status 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="apollospace-conformance",
        description="Certify an HTTP server against the Apollo Space v1 API contract and write a report you can submit.",
        epilog="Exit status: 0 PASS, every MUST of the claimed classes passed with evidence; 1 FAIL, a MUST broke; 2 bad usage, bad configuration or an unreachable target; "
        "3 INCOMPLETE, nothing broke but some MUST was not exercised (the summary lists what to add). "
        "Every option can also come from APOLLOSPACE_CONFORMANCE_<NAME> or from apollospace-conformance.toml ([conformance] table; no secrets in files).",
    )
    parser.add_argument("--version", action="version", version=f"apollospace-conformance {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    certify = commands.add_parser("certify", help="run the suite against a server and write JUnit, JSON, Markdown and HTML reports")
    groups = {name: certify.add_argument_group(name) for name in ("target", "scope", "good guest", "webhooks", "output")}
    groups["target"].add_argument("--embedded", action="store_true", help="start the bundled reference server on loopback and certify it (not with --url)")
    for name, option in KitSettings.options():
        groups[option["group"]].add_argument(f"--{name.replace('_', '-')}", **option_arguments(option))
    groups["output"].add_argument("--config", help="TOML settings file (default: ./apollospace-conformance.toml if present)")
    groups["output"].add_argument("-v", "--verbose", action="store_true", help="show every test as it runs (instead of the progress display)")
    commands.add_parser("suite-path", help="print the folder of the kit's test suite, to run it with your own pytest (see the README)")
    commands.add_parser("requirements", help="list the requirements and conformance classes")
    return parser


def _preflight(settings: KitSettings, claimed: set[str]) -> None:
    """Refuse early and clearly (an unreachable target, credentials it rejects); warn, one line each, about missing inputs."""
    from apollospace_conformance.http import TargetUnreachable
    from apollospace_conformance.preflight import preflight

    try:
        preflight(settings, claimed, lambda line: print(f"apollospace-conformance: warning: {line}", file=sys.stderr, flush=True))
    except TargetUnreachable as exc:
        raise Unreachable(str(exc)) from None


class EmbeddedServer:
    """The reference server, started as a separate process on loopback (the kit never imports it)."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="apollospace-embedded-"))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> dict[str, Any]:
        sibling = Path(sys.executable).parent / "apollospace-refserver"
        command = str(sibling) if sibling.is_file() else shutil.which("apollospace-refserver")
        if command is None:
            raise ConfigError("--embedded needs the reference server (apollospace-refserver), which is not installed")
        creds = self.folder / "credentials.json"
        self.process = subprocess.Popen(
            [command, "--data-dir", str(self.folder), "serve", "--memory", "--port", "0", "--credentials-file", str(creds)],
            stdout=subprocess.DEVNULL, stderr=(self.folder / "server.log").open("wb"),
        )
        deadline = time.monotonic() + EMBEDDED_START_SECONDS
        while not creds.is_file():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise Unreachable(f"the reference server did not start; see {self.folder / 'server.log'}")
            time.sleep(0.05)
        return dict(json.loads(creds.read_text("utf-8")))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def certify(args: argparse.Namespace) -> int:
    import pytest

    from apollospace_conformance.progress import RunProgress
    from apollospace_conformance.pytest_plugin import ConformanceRun
    from apollospace_conformance.report import summary_table

    values = {name: getattr(args, name) for name, _ in KitSettings.options()}
    if args.embedded and (args.url or args.credentials_file):
        raise ConfigError("--embedded starts its own server: leave out --url and --credentials-file")
    embedded = EmbeddedServer() if args.embedded else None
    try:
        if embedded is not None:
            given = {name: value for name, value in values.items() if value is not None}
            values = {**values, **from_credentials(embedded.start(), "the embedded server's credentials"), **given}
            profile = PROFILE_SETTINGS.get(values["profile"] or "standard")
            if values["rate_limit_probe"] is None and profile is not None and profile.probe_by_default:
                values["rate_limit_probe"] = True
        settings = load_settings(values, args.config)
        run = ConformanceRun(settings)
        output = Path(settings.output)
        output.mkdir(parents=True, exist_ok=True)
        _preflight(settings, run.claimed)
        print(f"apollospace-conformance {__version__}: certifying {settings.url} (profile {settings.profile}, seed {settings.seed})", flush=True)
        if not settings.profile_settings.certification:
            print(f"apollospace-conformance: profile {settings.profile} is a smoke run, NOT a certification (certify with --profile standard)", flush=True)
        code = pytest.main(
            # No --junitxml: the report writes junit.xml from report.json (one testcase per requirement, no blobs).
            ["-c", str(SUITE / "pytest.ini"), "--rootdir", str(SUITE), "--no-header", "-rN", "--tb=no", "-p", "no:randomly",
             "-p", "apollospace_conformance",  # the plugin's fixtures and markers, even with PYTEST_DISABLE_PLUGIN_AUTOLOAD set
             # -v keeps pytest's line per test; otherwise the progress display replaces its dots.
             *(["-v"] if args.verbose else ["-q", "-o", "console_output_style=classic"]),
             # The kit's HTTP client (httpcore) imports anyio, a pytest plugin, before pytest starts: its rewrite warning means nothing here.
             "-W", "ignore::pytest.PytestAssertRewriteWarning", str(SUITE)],
            plugins=[run, RunProgress(run, verbose=args.verbose)],
        )
    finally:
        if embedded is not None:
            embedded.stop()
    report = getattr(run, "report", None)
    if report is None:
        print(f"apollospace-conformance: the suite did not run (pytest exit {int(code)})", file=sys.stderr)
        return EXIT_USAGE
    print()
    print(summary_table(report))
    for kind, path in run.report_paths.items():
        print(f"  {kind:9} {path}")
    tracebacks = Path(settings.output) / "tracebacks.log"
    if tracebacks.is_file():
        print(f"  tracebacks {tracebacks}")
    if run.state.dead:
        print(f"apollospace-conformance: the target stopped answering mid-run ({run.state.dead}); the report is partial", file=sys.stderr)
        return EXIT_USAGE
    return {"PASS": EXIT_PASS, "INCOMPLETE": EXIT_INCOMPLETE}.get(report["verdict"], EXIT_FAIL)


def list_requirements() -> int:
    from apollospace_spec import load_catalog

    catalog = load_catalog()
    for klass, description in catalog.classes.items():
        print(f"{klass}: {description}")
        for requirement in catalog.in_class(klass):
            print(f"  {requirement.level:6} {requirement.id}  {requirement.statement}")
    return EXIT_PASS


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "requirements":
            return list_requirements()
        if args.command == "suite-path":
            print(SUITE)
            return EXIT_PASS
        return certify(args)
    except ConfigError as exc:
        print(f"apollospace-conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Unreachable as exc:
        print(f"apollospace-conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("apollospace-conformance: interrupted", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
