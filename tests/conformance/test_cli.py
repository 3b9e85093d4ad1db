"""The kit's command line: one clear line and exit 2 on bad usage, 0 on a conforming server, no secret in any output."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conformance.misbehaving import MisbehavingServer, every
from tests.mutants.catalog import certify, failed_requirements, serving

KIT = str(Path(sys.executable).parent / "apollospace-conformance")
ORG = "2f1f89d7-5c15-419b-bfe6-c4a1ef167827"  # any well-formed organization id


def run_kit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KIT, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env={"PATH": str(Path(sys.executable).parent)})


def test_missing_target_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """Without --url the kit says what is missing in one line and exits 2."""
    result = run_kit("certify", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--url" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_unreachable_target_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A target nobody listens on is reported as unreachable, exit 2, no traceback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_kit("certify", "--url", f"http://127.0.0.1:{port}/v1", "--token-a", "t", "--org-a", ORG, cwd=tmp_path)
    assert result.returncode == 2
    assert "cannot reach" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(("organizations", "named"), [
    (("--org-a", "acme"), "--org-a must be an organization id (a UUID"),
    (("--org-a", ORG, "--token-b", "t", "--org-b", "42"), "--org-b must be an organization id (a UUID"),
    (("--org-a", ORG, "--token-b", "t", "--org-b", ORG.upper()), "--org-b must be a second organization"),
])
def test_bad_organization_id_is_one_line_and_exit_2(organizations: tuple[str, ...], named: str, tmp_path: Path) -> None:
    """An organization id that is no UUID, or tenant B given tenant A's organization, is refused before any request."""
    result = run_kit("certify", "--url", "http://127.0.0.1:9/v1", "--token-a", "t", *organizations, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and named in result.stderr, result.stderr
    assert "cannot reach" not in result.stderr


def test_embedded_with_a_url_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """--embedded starts its own server: also naming a target is bad usage, said in one line before anything starts."""
    for target in (("--url", "http://127.0.0.1:9/v1"), ("--credentials-file", "credentials.json")):
        result = run_kit("certify", "--embedded", *target, cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and "--embedded" in result.stderr and target[0] in result.stderr


@pytest.mark.parametrize(("content", "named"), [
    (None, "credentials file not found"),
    ('{"tenant_a": {"token": "secret-in-file"', "not valid JSON"),
    ('{"tenant_b": {"token": "secret-in-file", "organization_id": "x"}}', "no tenant_a object"),
])
def test_bad_credentials_file_is_one_line_and_exit_2(content: str | None, named: str, tmp_path: Path) -> None:
    """A missing, malformed or incomplete credentials file is one line, exit 2, and never echoes what the file holds."""
    if content is not None:
        (tmp_path / "credentials.json").write_text(content, "utf-8")
    result = run_kit("certify", "--credentials-file", "credentials.json", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and named in result.stderr, result.stderr
    assert "secret-in-file" not in result.stdout + result.stderr


def test_help_documents_the_credentials_file_and_the_time_bounds(tmp_path: Path) -> None:
    """`certify --help` gives the credentials file's format, --timeout and --max-duration."""
    result = run_kit("certify", "--help", cwd=tmp_path)
    text = " ".join(result.stdout.split())
    for words in ("--credentials-file", '"tenant_a": {"token"', '"users": [{"role": "member" or "viewer"', "--timeout", "--max-duration"):
        assert words in text, words


def test_a_target_that_hangs_every_connection_is_refused_in_bounded_time(tmp_path: Path) -> None:
    """A target that accepts connections and never answers: the preflight's probes give up, one line, exit 2."""
    with MisbehavingServer(every("hang")) as server:
        started = time.monotonic()
        result = run_kit("certify", "--url", server.url, "--token-a", "t", "--org-a", ORG, "--timeout", "1", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "cannot reach" in result.stderr and "no complete answer within 1 s" in result.stderr
    assert time.monotonic() - started < 60


def test_bad_config_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A secret written into the TOML file is refused with one line."""
    config = tmp_path / "apollospace-conformance.toml"
    config.write_text('[conformance]\nurl = "http://127.0.0.1:9/v1"\ntoken_a = "secret"\n', "utf-8")
    result = run_kit("certify", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert "secrets out of files" in result.stderr


def test_refused_credentials_are_not_a_meaningless_pass(tmp_path: Path) -> None:
    """Credentials the target answers 401 to stop the run instead of passing it vacuously."""
    with serving("reference") as creds:
        result = run_kit("certify", "--url", creds["url"], "--token-a", "not-a-token", "--org-a", creds["tenant_a"]["organization_id"], cwd=tmp_path)
    assert result.returncode == 2
    assert "401" in result.stderr and "meaningless" in result.stderr


@pytest.mark.slow
def test_quick_certification_of_the_reference_server_passes_without_leaking_secrets(tmp_path: Path) -> None:
    """The reference server passes the variant catalog's profile (every test, kept short), and no token appears in any report."""
    output = tmp_path / "report"
    with serving("reference") as creds:
        code, report, log = certify(creds, output, seed=11)
    assert failed_requirements(report) == set(), log[-3000:]
    assert code == 0, log[-3000:]
    tokens = [creds["tenant_a"]["token"], creds["tenant_b"]["token"], creds["expired_token"], *(u["token"] for u in creds["users"])]
    for path in output.iterdir():
        text = path.read_text("utf-8", "replace")
        leaked = [token[:12] for token in tokens if token in text]
        assert not leaked, f"{path.name} contains a token"
    assert {"report.json", "certificate.md", "certificate.html", "junit.xml"} <= {p.name for p in output.iterdir()}
    assert report["provenance"]["spec_sha256"] and report["provenance"]["seed"] == 11


@pytest.mark.slow
def test_a_smoke_run_in_ci_shows_plain_progress_lines_and_says_it_is_no_certification(tmp_path: Path) -> None:
    """CI set: plain progress lines (class, requirement, requests, failures, ETA), no terminal escapes; -v keeps pytest's
    line per test; the quick profile says, on the terminal and first in the report, that it is not a certification."""
    env = {"PATH": str(Path(sys.executable).parent), "CI": "true"}
    result = subprocess.run([KIT, "certify", "--embedded", "--profile", "quick", "--include-classes", "versioning,errors", "-v",
                             "--output", str(tmp_path / "out")], cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    shown = result.stdout + result.stderr
    assert "Traceback" not in shown, shown[-3000:]
    progress = [line for line in result.stderr.splitlines() if line.startswith("apollospace-conformance: [")]
    assert progress and all(" requests · " in line and " failed · ETA " in line for line in progress), result.stderr[-2000:]
    assert any("versioning · /req/versioning/" in line for line in progress), progress
    assert "\x1b[" not in shown and "\r" not in shown
    assert "PASSED" in result.stdout  # -v: a line per test
    assert "a smoke run, NOT a certification" in result.stdout
    report = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    assert "NOT a certification" in report["problems"][0] and report["verdict"] == "INCOMPLETE"  # a smoke run never PASSes
    assert result.returncode == 3
