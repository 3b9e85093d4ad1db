"""Profile the reference server under wrk load with py-spy (not a dependency: `pip install py-spy`).

    .venv/bin/python bench/profile_server.py [--operation get|list|create] [--seconds 10]

Starts the server as `make bench` does, sends one operation with wrk at 8
connections and records the server process with `py-spy record --gil`
(only the thread holding the GIL: where the CPU goes, not who waits), writing build/bench/profile-<operation>.txt
(collapsed stacks) and a summary of the hottest leaf and inclusive frames.
The findings are in bench/README.md.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from refserver_process import refserver  # noqa: E402
from run_all import DEFAULT_OUT, GENEROUS_RATE_LIMITS, reference_target  # noqa: E402
from wrk_load import ensure_wrk, run_wrk  # noqa: E402


def summarize(collapsed: Path, top: int = 25) -> str:
    leaf: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text("utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        frames = stack.split(";")
        leaf[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    lines = [f"{total} samples", "", "leaf (self) time:"]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in leaf.most_common(top)]
    lines += ["", "inclusive time:"]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(top * 2)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--operation", choices=("get", "list", "create"), default="get")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    wrk, how = ensure_wrk()
    if wrk is None:
        print(how, file=sys.stderr)
        return 2
    DEFAULT_OUT.mkdir(parents=True, exist_ok=True)
    out = DEFAULT_OUT / f"profile-{args.operation}.txt"
    with refserver(GENEROUS_RATE_LIMITS) as creds:
        target = reference_target(creds)
        pid = target.pid
        load = threading.Thread(
            target=run_wrk,
            args=(wrk, target, args.operation, args.connections, args.seconds + 2),
            daemon=True,
        )
        load.start()
        time.sleep(1)
        subprocess.run(
            [
                spy,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(args.seconds),
                "--rate",
                "200",
                "--format",
                "raw",
                "--output",
                str(out),
                "--threads",
                "--nonblocking",
                "--gil",
            ],
            check=True,
            capture_output=True,
        )
        load.join()
    print(summarize(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
