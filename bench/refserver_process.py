"""Start the reference server as a subprocess for a benchmark or a plain schemathesis run.

    from refserver_process import refserver

    with refserver(["--rate-limit", "read=1000000"]) as creds:
        creds["url"], creds["tenant_a"]["token"], creds["tenant_a"]["organization_id"]

The server runs in memory on a loopback port picked by the OS (port 0), with a
throwaway data dir (signing key, log). The context yields the credentials the
server writes with `--credentials-file` once it is reachable, and terminates the
process on exit (SIGTERM, then SIGKILL after a grace period).

The server writes the credentials file after binding its socket but before
uvicorn starts listening, so the file alone does not prove the server answers:
we also wait until an authenticated GET answers (any HTTP status).
Importing this module has no side effects.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

STARTUP_TIMEOUT = 30.0  # seconds for the credentials file and the first answer
STOP_GRACE = 10.0  # seconds between SIGTERM and SIGKILL


class ServerStartError(RuntimeError):
    """The server exited or did not become reachable in time; the message carries its log tail."""


def refserver_command() -> str:
    """The `apollospace-refserver` beside this interpreter (the venv's), else the one on PATH."""
    sibling = Path(sys.executable).parent / "apollospace-refserver"
    if sibling.is_file():
        return str(sibling)
    found = shutil.which("apollospace-refserver")
    if found is None:
        raise ServerStartError(
            f"apollospace-refserver is neither beside {sys.executable} nor on PATH: "
            "run `make setup`"
        )
    return found


def wait_until_answering(
    url: str,
    headers: dict[str, str] | None = None,
    *,
    deadline: float,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Poll `url` until it answers with any HTTP status (bounded by the monotonic `deadline`)."""
    request = urllib.request.Request(url, headers=headers or {})
    while True:
        if process is not None and process.poll() is not None:
            raise ServerStartError(
                f"the process exited with status {process.returncode} before answering {url}"
            )
        try:
            with urllib.request.urlopen(request, timeout=2.0):
                return
        except urllib.error.HTTPError:
            return  # an HTTP answer, whatever the status, means it is listening
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.monotonic() > deadline:
            raise ServerStartError(f"{url} did not answer in time")
        time.sleep(0.05)


def stop_process(process: subprocess.Popen[Any], grace: float = STOP_GRACE) -> None:
    """SIGTERM the process we started, SIGKILL it if it outlives the grace period."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=grace)


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text("utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _read_credentials(path: Path) -> dict[str, Any] | None:
    """The credentials, or None while the file is absent or still being written."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and "url" in data else None


@contextmanager
def refserver(
    extra_args: Sequence[str] = (),
    *,
    startup_timeout: float = STARTUP_TIMEOUT,
    host: str = "127.0.0.1",
) -> Iterator[dict[str, Any]]:
    """Run `apollospace-refserver serve --memory --port 0 EXTRA_ARGS`; yield its credentials."""
    with tempfile.TemporaryDirectory(prefix="apollospace-bench-") as folder:
        data_dir = Path(folder)
        creds_path = data_dir / "credentials.json"
        log_path = data_dir / "server.log"
        command = [
            refserver_command(),
            "--data-dir",
            str(data_dir),
            "serve",
            "--memory",
            "--host",
            host,
            "--port",
            "0",
            "--credentials-file",
            str(creds_path),
            *extra_args,
        ]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log
            )
        try:
            deadline = time.monotonic() + startup_timeout
            creds = None
            while creds is None:
                if process.poll() is not None:
                    raise ServerStartError(
                        f"apollospace-refserver exited with status {process.returncode}:\n"
                        f"{_log_tail(log_path)}"
                    )
                if time.monotonic() > deadline:
                    raise ServerStartError(
                        f"apollospace-refserver wrote no credentials in {startup_timeout:.0f} s:\n"
                        f"{_log_tail(log_path)}"
                    )
                time.sleep(0.05)
                creds = _read_credentials(creds_path)
            tenant = creds["tenant_a"]
            try:
                wait_until_answering(
                    f"{creds['url']}/agents?limit=1",
                    auth_headers(tenant),
                    deadline=deadline,
                    process=process,
                )
            except ServerStartError as exc:
                raise ServerStartError(
                    f"apollospace-refserver: {exc}:\n{_log_tail(log_path)}"
                ) from None
            yield creds
        finally:
            stop_process(process)


def auth_headers(tenant: dict[str, Any]) -> dict[str, str]:
    """The two headers every call needs: the bearer token and the organization."""
    return {
        "Authorization": f"Bearer {tenant['token']}",
        "X-Organization-Id": tenant["organization_id"],
    }
