"""The wire catalog: which requirements each mutation breaks, and how to serve the proxy with one."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.mutants.catalog import Expectation, credentials_of_process, read_expectations
from tests.mutants.wire.mutations import PASSTHROUGH, names

HERE = Path(__file__).parent
EXPECTATIONS = HERE / "expectations.txt"
START_TIMEOUT_SECONDS = 45.0


def expectations() -> list[Expectation]:
    """One per line of expectations.txt: `name: /req/... /req/...` (comments after #)."""
    return read_expectations([EXPECTATIONS])


def mutation_modules() -> set[str]:
    return names()


@contextmanager
def wired(mutation: str, folder: Path) -> Iterator[dict[str, Any]]:
    """The reference server behind the proxy with `mutation` (or PASSTHROUGH), in its own process; yield the proxy's credentials."""
    assert mutation == PASSTHROUGH or mutation in names(), f"no wire mutation {mutation}"
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "tests.mutants.wire.serve", mutation, "--credentials-file", str(folder / "credentials.json"), "--folder", str(folder)]
    # A session of its own: the proxy and the server it starts form one process group, stopped together.
    with credentials_of_process(command, folder, f"the wire proxy ({mutation})", timeout=START_TIMEOUT_SECONDS, log_name="proxy.log",
                                stop=_stop_group, start_new_session=True) as creds:
        yield creds


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
