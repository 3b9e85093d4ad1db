"""The README's "Certify your own server" command passes against a separately started reference server, and the same
command without tenant B ends INCOMPLETE after a preflight that names what is missing.

The command is read out of README.md, so the two cannot drift; only the
environment variables it names are filled in (from the credentials the server
writes), the tokens as the kit's APOLLOSPACE_CONFORMANCE_* variables the
README exports. The PASS run is the README's own: the standard profile (quick
is a smoke run and never certifies).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.mutants.catalog import credentials_of_process

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SECTION = "## Certify your own server"
VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)\}")


def readme_command() -> list[str]:
    """The `apollospace-conformance certify` command of the README's partner section, as words (variables unexpanded)."""
    text = (REPO / "README.md").read_text("utf-8")
    section = text[text.index(SECTION):]
    section = section[:section.find("\n## ", len(SECTION))]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "the partner section has no sh block"
    joined = block.group(1).replace("\\\n", " ")
    line = next(line for line in joined.splitlines() if line.strip().startswith("apollospace-conformance certify"))
    return shlex.split(line, comments=True)


def expand(words: list[str], env: dict[str, str]) -> list[str]:
    """Each $NAME replaced by its value (a name the test does not supply fails loudly)."""
    return [VARIABLE.sub(lambda found: env[found.group(1) or found.group(2)], word) for word in words]


def without(words: list[str], *options: str) -> list[str]:
    """`words` without the given options and their values."""
    kept: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in options:
            skip = True
        else:
            kept.append(word)
    return kept


def with_option(words: list[str], option: str, value: str) -> list[str]:
    """`words` with `option` set to `value` (replaced where present, else appended)."""
    return [*without(words, option), option, value]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def reference_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`apollospace-refserver serve --memory --port 0 --credentials-file ...`, a process of its own; its credentials."""
    folder = tmp_path_factory.mktemp("refserver")
    command = [str(BIN / "apollospace-refserver"), "--data-dir", str(folder), "serve", "--memory", "--port", "0", "--credentials-file", str(folder / "credentials.json")]
    with credentials_of_process(command, folder, "the reference server") as creds:
        yield creds


def partner_environment(creds: dict[str, Any]) -> dict[str, str]:
    """The variables the README's command names, as the reference server's operators would set them."""
    port = free_port()
    return {
        "API_URL": creds["url"], "ORG_A": creds["tenant_a"]["organization_id"], "ORG_B": creds["tenant_b"]["organization_id"],
        "WEBHOOK_BIND": f"127.0.0.1:{port}", "WEBHOOK_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }


def token_environment(creds: dict[str, Any]) -> dict[str, str]:
    """The tokens, as the README exports them: the kit's own environment variables."""
    org_a = creds["tenant_a"]["organization_id"]
    role = {person["role"]: person["token"] for person in creds["users"] if person["organization_id"] == org_a}
    return {"APOLLOSPACE_CONFORMANCE_TOKEN_A": creds["tenant_a"]["token"], "APOLLOSPACE_CONFORMANCE_TOKEN_B": creds["tenant_b"]["token"],
            "APOLLOSPACE_CONFORMANCE_EXPIRED_TOKEN": creds["expired_token"], "APOLLOSPACE_CONFORMANCE_MEMBER_TOKEN": role["member"],
            "APOLLOSPACE_CONFORMANCE_VIEWER_TOKEN": role["viewer"]}


def readme_exports() -> set[str]:
    """The variables the partner section's sh block exports."""
    text = (REPO / "README.md").read_text("utf-8")
    section = text[text.index(SECTION):]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return {name for line in block.group(1).splitlines() if line.startswith("export ") for name in re.findall(r"(\w+)=", line)}


def run(words: list[str], cwd: Path, tokens: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(tokens or {})}
    return subprocess.run(words, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def secrets_of(creds: dict[str, Any]) -> list[str]:
    return [creds["tenant_a"]["token"], creds["tenant_b"]["token"], creds["expired_token"], *(person["token"] for person in creds["users"])]


def test_readme_names_every_input_of_a_full_certification() -> None:
    """The partner command gives tenant B, the expired, member and viewer tokens, the rate-limit probe and the receiver's public URL."""
    words = readme_command()
    for option in ("--url", "--org-a", "--org-b", "--rate-limit-probe", "--webhook-public-url"):
        assert option in words, f"the README's partner command lacks {option}"
    assert not [word for word in words if word.startswith("--") and "token" in word], "tokens go in the environment, not on the command line"
    assert readme_exports() == {f"APOLLOSPACE_CONFORMANCE_{name}" for name in ("TOKEN_A", "TOKEN_B", "EXPIRED_TOKEN", "MEMBER_TOKEN", "VIEWER_TOKEN")}


def test_no_other_token_variable_names_in_the_readme() -> None:
    """One naming everywhere: the kit's variables, not $APOLLOSPACE_TOKEN or $TOKEN_A."""
    text = (REPO / "README.md").read_text("utf-8")
    assert not re.findall(r"\$\{?(?:APOLLOSPACE_TOKEN|TOKEN_A|TOKEN_B|EXPIRED_TOKEN|MEMBER_TOKEN|VIEWER_TOKEN)\b", text)


@pytest.mark.slow
def test_readme_command_passes_against_the_reference_server(reference_server: dict[str, Any], tmp_path: Path) -> None:
    """Run exactly as the README says (standard profile), a separately started reference server certifies PASS, exit 0, no token shown."""
    words = expand(readme_command(), partner_environment(reference_server))
    result = run(words, tmp_path, token_environment(reference_server))
    shown = result.stdout + result.stderr
    assert "verdict: PASS" in result.stdout, shown[-4000:]
    assert result.returncode == 0, shown[-4000:]
    assert "warning" not in result.stderr, result.stderr
    assert not [token for token in secrets_of(reference_server) if token in shown]


@pytest.mark.slow
def test_readme_command_without_tenant_b_is_incomplete_and_says_why(reference_server: dict[str, Any], tmp_path: Path) -> None:
    """Without tenant B the preflight names it and what it leaves unexercised, the run goes on, and ends INCOMPLETE (exit 3).

    The run claims only the classes the preflight names (it does not need the rest to show this), which keeps it short.
    """
    words = with_option(expand(readme_command(), partner_environment(reference_server)), "--profile", "quick")
    words = with_option(without(words, "--org-b"), "--include-classes", "organization,rate-limits")
    tokens = {name: value for name, value in token_environment(reference_server).items() if not name.endswith("TOKEN_B")}
    result = run(words, tmp_path, tokens)
    shown = result.stdout + result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "missing tenant B" in warnings[0], result.stderr
    for requirement in ("/req/organization/foreign-resource-404", "/req/organization/list-isolation", "/req/rate-limits/429-retry-after"):
        assert requirement in warnings[0]
    assert "verdict: INCOMPLETE" in result.stdout, shown[-4000:]
    assert result.returncode == 3, shown[-4000:]
    report = json.loads((tmp_path / "build" / "conformance" / "report.json").read_text("utf-8"))
    statuses = {entry["id"]: entry["status"] for entry in report["requirements"]}
    assert statuses["/req/organization/foreign-resource-404"] != "PASS"
    assert "FAIL" not in statuses.values()
    assert not [token for token in secrets_of(reference_server) if token in shown]
