"""The pytest plugin behaves: inert without a target, selection by class and requirement, the CLI's preflight and options,
reports only for suite runs. (A non-zero exit when the verdict is not PASS: tests/conformance/test_secrets.py.)

Each case runs a real `python -m pytest` in a folder of its own, with an environment cleared of the kit's variables.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from apollospace_conformance.locate import suite_root
from apollospace_conformance.settings import KitSettings

ORG = "2f1f89d7-5c15-419b-bfe6-c4a1ef167827"
KIT = str(Path(sys.executable).parent / "apollospace-conformance")
PARTNER_TEST = '''
def test_uses_the_kit(api):
    assert api.get("/leads").status == 200


def test_plain():
    assert True
'''


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


def pytest_run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("APOLLOSPACE_CONFORMANCE_") and key != "CI"}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "--rootdir", str(cwd), *args],
                          cwd=cwd, env={**clean, **(env or {})}, capture_output=True, text=True, timeout=300)


def target_env(url: str, output: Path) -> dict[str, str]:
    return {"APOLLOSPACE_CONFORMANCE_URL": url, "APOLLOSPACE_CONFORMANCE_TOKEN_A": "not-a-real-token",
            "APOLLOSPACE_CONFORMANCE_ORG_A": ORG, "APOLLOSPACE_CONFORMANCE_OUTPUT": str(output),
            "APOLLOSPACE_CONFORMANCE_PROFILE": "quick"}  # no schema to build for the fuzz layer: collection stays short


def test_without_a_target_the_kit_fixtures_skip_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "test_partner.py").write_text(PARTNER_TEST, "utf-8")
    result = pytest_run("test_partner.py", "-rs", cwd=tmp_path)
    shown = result.stdout + result.stderr
    assert result.returncode == 0, shown
    assert "1 passed, 1 skipped" in shown and "no Apollo Space target configured: pass --apollospace-url" in shown, shown
    assert "fixture 'api' not found" not in shown


def test_a_session_of_other_tests_writes_no_report(tmp_path: Path) -> None:
    """The URL set for other reasons: a partner's plain tests run as usual, no preflight, no report, exit 0."""
    (tmp_path / "test_partner.py").write_text(PARTNER_TEST.split("\n\n\n")[1], "utf-8")
    result = pytest_run("test_partner.py", cwd=tmp_path, env=target_env(closed_port_url(), tmp_path / "out"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (tmp_path / "out").exists()


def _collected(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if "::" in line]


def test_collect_only_selects_by_class_and_by_requirement_and_sends_nothing(tmp_path: Path) -> None:
    """With a target in the environment (one nobody listens on): -m selects a class, -k a requirement ID; --collect-only
    runs no preflight and writes no report."""
    env = target_env(closed_port_url(), tmp_path / "out")
    result = pytest_run(str(suite_root()), "--collect-only", "-q", "-m", "rate_limits", cwd=tmp_path, env=env)
    shown = result.stdout + result.stderr
    assert result.returncode == 0, shown[-3000:]
    by_class = _collected(result)
    assert by_class and all("test_rate_limits.py" in line or "test_observed.py" in line for line in by_class), by_class
    assert any("test_rate_limit_probe_recovery" in line for line in by_class)
    assert "cannot reach" not in shown and not (tmp_path / "out").exists()
    by_id = _collected(pytest_run(str(suite_root()), "--collect-only", "-q", "-k", "/req/pagination/complete-walk", cwd=tmp_path, env=env))
    assert any("test_complete_walk" in line for line in by_id), by_id
    assert not [line for line in by_id if "test_auth.py" in line or "test_rate_limits.py" in line], by_id


class _Refusing(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = b'{"error": {"code": "invalid_token", "message": "no", "request_id": "r"}}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_server() -> Iterator[str]:
    """A server that answers 401 to every token."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_a_refused_token_stops_the_run_like_the_cli(tmp_path: Path, refusing_server: str) -> None:
    """The CLI's preflight: a token the target refuses is one line and a non-zero exit before any test, not exit 0 and a FAIL report."""
    result = pytest_run(str(suite_root()), "-q", "-m", "versioning", cwd=tmp_path, env=target_env(refusing_server, tmp_path / "out"))
    shown = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, shown[-3000:]
    assert "answers 401 to tenant A's token" in shown and "Traceback" not in shown
    assert not (tmp_path / "out" / "report.json").exists()


def _long_options(help_text: str, prefix: str) -> dict[str, bool]:
    """Each --option of a help text under `prefix`, and whether it takes a value."""
    found = {}
    for match in re.finditer(rf"^\s+{re.escape(prefix)}([a-z-]+)(=?\s?[A-Z_=,.]*)", help_text, re.M):
        found[match.group(1)] = bool(match.group(2).strip())
    return found


def test_plugin_options_are_the_cli_options_with_the_same_syntax(tmp_path: Path) -> None:
    """Same settings, same switches: --apollospace-rate-limit-probe takes no value, like --rate-limit-probe."""
    plugin = pytest_run("--help", cwd=tmp_path).stdout
    cli = subprocess.run([KIT, "certify", "--help"], capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "200"}).stdout
    plugin_options = _long_options(plugin, "--apollospace-")
    cli_options = _long_options(cli, "--")
    settings = {name.replace("_", "-") for name, _ in KitSettings.options()}
    assert settings <= set(plugin_options) and settings <= set(cli_options)
    assert {name: plugin_options[name] for name in settings} == {name: cli_options[name] for name in settings}
    assert plugin_options["rate-limit-probe"] is False
