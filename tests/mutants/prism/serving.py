"""Start Prism's mock of the bundle behind the `/v1` shim, with credentials the kit can use.

    with prism_serving(folder) as creds:   # skips the test when npm or Prism is not available
        certify(creds, folder / "report", seed=7)

Prism is installed with npm into the user cache folder the benchmarks use
(bench/run_all.py: `ensure_prism`), so a machine installs it once, without any
global install. Prism checks that a bearer token is present but verifies
nothing in it: the kit gets tokens shaped like real JWTs (tenant A, tenant B, an
expired one, a member and a viewer) and two distinct organization UUIDs.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from bench.refserver_process import stop_process
from bench.run_all import PRISM_PACKAGE, PRISM_VERSION, default_prism_dir, ensure_prism

HERE = Path(__file__).parent
INSTALL_TIMEOUT = 600.0  # seconds for a cold `npm install` (about 12 s on a fresh machine with a fast network)
START_TIMEOUT = 60.0  # seconds for Prism to parse the bundle and answer
STOP_GRACE = 10.0
# Two organizations that only exist in the kit's requests: Prism has no tenants to tell them apart.
ORG_A = "9b2d4c6e-1f3a-4b5c-8d7e-0a1b2c3d4e5f"
ORG_B = "3c1e5a7b-2d4f-4a6c-9e8b-1f0d2c3b4a59"
DAY = 86_400


def prism_executable() -> Path:
    """Prism's `prism` command, installed on first use and timed; skips the test when that is impossible."""
    started = time.monotonic()
    executable, how = ensure_prism(default_prism_dir(), timeout=INSTALL_TIMEOUT)
    if executable is None:
        pytest.skip(f"{PRISM_PACKAGE}@{PRISM_VERSION} is not available: {how.removeprefix('skipped: ')}")
    print(f"{PRISM_PACKAGE}@{PRISM_VERSION}: {how} in {time.monotonic() - started:.1f} s ({executable})")
    return executable


def bundle(folder: Path) -> Path:
    """The self-contained bundle of the spec (`apollospace-spec bundle`), as Prism reads it."""
    command = [str(Path(sys.executable).parent / "apollospace-spec"), "bundle", "--out", str(folder)]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return folder / "openapi.json"


def token(subject: str, expires_in: int) -> str:
    """A JWT-shaped bearer token (header.payload.signature, base64url): Prism checks only that one is sent."""

    def part(data: dict[str, Any] | bytes) -> str:
        raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    now = int(time.time())
    claims = {"iss": "https://prism.invalid", "aud": "apollospace", "sub": subject, "iat": now, "exp": now + expires_in}
    return ".".join((part({"alg": "RS256", "typ": "JWT"}), part(claims), part(subject.encode().ljust(32, b"."))))


def credentials(url: str) -> dict[str, Any]:
    """The same shape as the reference server's credentials file (tests/mutants/catalog.py reads it)."""
    return {
        "url": url,
        "tenant_a": {"organization_id": ORG_A, "token": token("owner-a", DAY)},
        "tenant_b": {"organization_id": ORG_B, "token": token("owner-b", DAY)},
        "expired_token": token("owner-a", -DAY),
        "users": [
            {"organization_id": ORG_A, "role": "member", "token": token("member-a", DAY)},
            {"organization_id": ORG_A, "role": "viewer", "token": token("viewer-a", DAY)},
        ],
    }


@contextmanager
def prism_serving(folder: Path) -> Iterator[dict[str, Any]]:
    """Prism on the bundle, and the shim in front of it; yields the kit's credentials (url ends in /v1)."""
    executable = prism_executable()
    spec = bundle(folder / "bundle")
    port = _free_port()
    with _started([str(executable), "mock", "-h", "127.0.0.1", "-p", str(port), "-v", "warn", str(spec)], folder / "prism.log") as prism:
        _wait_until_answering(f"http://127.0.0.1:{port}/agents", prism, folder / "prism.log")
        port_file = folder / "shim.port"
        shim = [sys.executable, str(HERE / "shim.py"), "--upstream", f"http://127.0.0.1:{port}", "--port-file", str(port_file)]
        with _started(shim, folder / "shim.log") as proxy:
            deadline = time.monotonic() + START_TIMEOUT
            while not port_file.is_file():
                if proxy.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the /v1 shim did not start: {_tail(folder / 'shim.log')}")
                time.sleep(0.05)
            url = f"http://127.0.0.1:{port_file.read_text('utf-8')}/v1"
            _wait_until_answering(f"{url}/agents", proxy, folder / "shim.log")
            yield credentials(url)


@contextmanager
def _started(command: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT, cwd=log.parent)
    try:
        yield process
    finally:
        stop_process(process, STOP_GRACE)


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll `url` until it answers with any HTTP status, while the process lives (bounded)."""
    headers = {"Authorization": f"Bearer {token('owner-a', DAY)}", "X-Organization-Id": ORG_A}
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with status {process.returncode}: {_tail(log)}")
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=2.0):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer means it is listening
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {START_TIMEOUT:.0f} s: {_tail(log)}")
        time.sleep(0.1)


def _free_port() -> int:
    """A loopback port free right now (Prism takes a port number, not a socket)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text("utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
