"""Serve the unmodified reference server behind the wire proxy: `python -m tests.mutants.wire.serve MUTATION --credentials-file F`.

Starts `apollospace-refserver serve` as a child process (in memory, on a free
loopback port, with the catalog's fast webhook retry schedule), then the proxy
on another loopback port with one mutation (`passthrough` for none), and
writes the server's credentials file with the proxy's URL: the kit is pointed
at it exactly like at the real thing. Stopping this process stops both.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uvicorn
from bench.refserver_process import stop_process

from tests.mutants.wire.mutations import load
from tests.mutants.wire.proxy import WireProxy

# The settings tests/mutants/serve.py gives the code variants, as the server's own switches:
# webhook retries after 1, 2 and 4 s. (Its faster agent-run steps have no switch: runs take the default step time.)
SERVER_SWITCHES = ["--memory", "--port", "0", "--webhook-retry-schedule", "1,2,4", "--log-level", "error"]
START_TIMEOUT_SECONDS = 30.0


def start_server(folder: Path) -> tuple[subprocess.Popen[bytes], dict]:  # type: ignore[type-arg]
    """The reference server, started through its CLI; its process and its credentials."""
    creds = folder / "server-credentials.json"
    command = [str(Path(sys.executable).parent / "apollospace-refserver"), "--data-dir", str(folder / "data"), "serve",
               *SERVER_SWITCHES, "--credentials-file", str(creds)]
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=log)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not creds.is_file():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"the reference server did not start: {(folder / 'server.log').read_text()[-2000:]}")
        time.sleep(0.05)
    return process, json.loads(creds.read_text("utf-8"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mutation", help="module name under tests/mutants/wire/mutations, or 'passthrough'")
    parser.add_argument("--credentials-file", required=True)
    parser.add_argument("--folder", help="for the server's data and log (default: a new temporary folder)")
    args = parser.parse_args()
    mutation = load(args.mutation)
    folder = Path(args.folder) if args.folder else Path(tempfile.mkdtemp(prefix=f"apollospace-wire-{args.mutation}-"))
    folder.mkdir(parents=True, exist_ok=True)
    server, creds = start_server(folder)
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        origin = f"http://127.0.0.1:{sock.getsockname()[1]}"
        upstream = creds["url"].removesuffix("/v1")
        proxy = WireProxy(upstream, origin, mutation, memory={"credentials": creds})
        target = Path(args.credentials_file)
        partial = target.with_name(target.name + ".partial")
        partial.write_text(json.dumps({**creds, "url": f"{origin}/v1"}), "utf-8")
        partial.replace(target)
        config = uvicorn.Config(proxy, log_level="error", access_log=False, lifespan="on", server_header=False, date_header=False)
        # uvicorn stops on SIGTERM and then raises it again with the handler it found: make that handler an exit,
        # so the `finally` below still stops the server.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        stop_process(server)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
