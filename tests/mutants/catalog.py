"""The broken-variant catalog: what each variant breaks, and how to run the kit against one."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.refserver_process import stop_process

from apollospace_spec.catalog import load_catalog

HERE = Path(__file__).parent
REPO = HERE.parents[1]
VARIANTS = HERE / "variants"


@dataclass(frozen=True)
class Expectation:
    variant: str
    requirements: frozenset[str]

    @property
    def classes(self) -> list[str]:
        return sorted({rid.split("/")[2] for rid in self.requirements})

    @property
    def exit_code(self) -> int:
        """1 (certification failed) when a broken requirement is a MUST; 0 when all are SHOULDs, which only warn."""
        catalog = load_catalog()
        return 1 if any(catalog[rid].is_must for rid in self.requirements) else 0


def expectations() -> list[Expectation]:
    return read_expectations(sorted((HERE / "expectations").glob("*.txt")))


def read_expectations(paths: list[Path]) -> list[Expectation]:
    """One per line of the files: `name: /req/... /req/...` (comments after #)."""
    found = []
    lines = [line for path in paths for line in path.read_text("utf-8").splitlines()]
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, ids = line.partition(":")
            found.append(Expectation(name.strip(), frozenset(ids.split())))
    return found


def variant_modules() -> set[str]:
    return {path.stem for path in VARIANTS.glob("*.py") if path.stem != "__init__"}


@contextmanager
def serving(variant: str) -> Iterator[dict[str, Any]]:
    """Run `tests/mutants/serve.py variant` in its own process; yield its credentials."""
    folder = Path(tempfile.mkdtemp(prefix=f"apollospace-{variant.rsplit('.', 1)[-1]}-"))
    command = [sys.executable, str(HERE / "serve.py"), variant, "--credentials-file", str(folder / "credentials.json")]
    with credentials_of_process(command, folder, f"variant {variant}") as creds:
        yield creds


@contextmanager
def credentials_of_process(command: list[str], folder: Path, what: str, *, timeout: float = 60.0, log_name: str = "server.log",
                           stop: Callable[[subprocess.Popen[bytes]], None] = stop_process, **popen: Any) -> Iterator[dict[str, Any]]:
    """Start `command` (which writes `folder/credentials.json` once it serves), yield those credentials, `stop` it after.

    Its output goes to `folder/log_name`, quoted when it exits or takes longer than `timeout` to start.
    """
    creds = folder / "credentials.json"
    log_path = folder / log_name
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=popen.pop("cwd", REPO), stdout=log, stderr=log, **popen)
    try:
        deadline = time.monotonic() + timeout
        while not creds.is_file():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.05)
        time.sleep(0.05)
        yield json.loads(creds.read_text("utf-8"))
    finally:
        stop(process)


def certify(creds: dict[str, Any], output: Path, *, seed: int, classes: list[str] | None = None, profile: str = "catalog") -> tuple[int, dict[str, Any], str]:
    """Run the kit's CLI against a served variant; its exit code, report and output."""
    kit = Path(sys.executable).parent / "apollospace-conformance"
    command = [str(kit), "certify", "--url", creds["url"], "--org-a", creds["tenant_a"]["organization_id"],
               "--org-b", creds["tenant_b"]["organization_id"], "--profile", profile, "--seed", str(seed),
               "--rate-limit-probe", "--output", str(output)]
    if classes:
        command += ["--include-classes", ",".join(classes)]
    env = {"APOLLOSPACE_CONFORMANCE_TOKEN_A": creds["tenant_a"]["token"], "APOLLOSPACE_CONFORMANCE_TOKEN_B": creds["tenant_b"]["token"],
           "APOLLOSPACE_CONFORMANCE_EXPIRED_TOKEN": creds["expired_token"], **_role_tokens(creds), "PATH": str(Path(sys.executable).parent)}
    if "spec_dir" in creds:  # the variant serves a test spec (deprecation_headers_dropped): the kit certifies against it
        env["APOLLOSPACE_SPEC_DIR"] = creds["spec_dir"]
    result = subprocess.run(command, cwd=output.parent, env=env, capture_output=True, text=True, timeout=900)
    report_path = output / "report.json"
    report = json.loads(report_path.read_text("utf-8")) if report_path.is_file() else {}
    return result.returncode, report, result.stdout + result.stderr


def _role_tokens(creds: dict[str, Any]) -> dict[str, str]:
    """The member and viewer tokens of tenant A's organization, as the kit's environment variables."""
    found = {}
    for person in creds.get("users", []):
        if person["organization_id"] == creds["tenant_a"]["organization_id"] and person["role"] in ("member", "viewer"):
            found[f"APOLLOSPACE_CONFORMANCE_{person['role'].upper()}_TOKEN"] = person["token"]
    return found


def failed_requirements(report: dict[str, Any]) -> set[str]:
    return {r["id"] for r in report.get("requirements", []) if r["status"] == "FAIL"}
