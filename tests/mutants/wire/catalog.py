"""The wire catalog: which requirements each mutation breaks, and how to serve the proxy with one."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.mutants.catalog import REPO, Expectation
from tests.mutants.wire.mutations import PASSTHROUGH, names

HERE = Path(__file__).parent
EXPECTATIONS = HERE / "expectations.txt"
START_TIMEOUT_SECONDS = 45.0


def expectations() -> list[Expectation]:
    """One per line of expectations.txt: `name: /req/... /req/...` (comments after #)."""
    found = []
    for line in EXPECTATIONS.read_text("utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, ids = line.partition(":")
            found.append(Expectation(name.strip(), frozenset(ids.split())))
    return found


def mutation_modules() -> set[str]:
    return names()


@contextmanager
def wired(mutation: str, folder: Path) -> Iterator[dict[str, Any]]:
    """The reference server behind the proxy with `mutation` (or PASSTHROUGH), in its own process; yield the proxy's credentials."""
    assert mutation == PASSTHROUGH or mutation in names(), f"no wire mutation {mutation}"
    folder.mkdir(parents=True, exist_ok=True)
    creds = folder / "credentials.json"
    log = (folder / "proxy.log").open("wb")
    # A session of its own: the proxy and the server it starts form one process group, stopped together.
    process = subprocess.Popen([sys.executable, "-m", "tests.mutants.wire.serve", mutation, "--credentials-file", str(creds), "--folder", str(folder)],
                               cwd=REPO, stdout=log, stderr=log, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not creds.is_file():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the wire proxy ({mutation}) did not start: {(folder / 'proxy.log').read_text()[-2000:]}")
            time.sleep(0.05)
        time.sleep(0.05)
        yield json.loads(creds.read_text("utf-8"))
    finally:
        _stop_group(process)
        log.close()


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the proxy and its server (their own process group), SIGKILL to whatever is left after 15 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)  # anyone of the group still there (the server finishing its shutdown)?
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
