"""Server throughput with wrk: the reference server and Prism, measured alternately in one run.

    from wrk_load import ensure_wrk, WrkTarget, measure

wrk (Debian's package, a compiled HTTP/1.1 load generator) keeps N keep-alive
connections busy from one thread, so the generator costs far less CPU than the
server it measures (the Python client it replaces spent a core on itself).
The operation is set by bench/wrk/scenario.lua from environment variables;
the bearer token goes through the environment, never on a command line.
Importing this module has no side effects.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parent / "wrk" / "scenario.lua"
OPERATIONS = ("get", "list", "create")
WRK_TIMEOUT = "10s"  # a request slower than this counts as a timeout error, not a latency


@dataclass(frozen=True)
class WrkTarget:
    name: str
    base_url: str  # scheme://host:port, no path
    prefix: str  # "/v1" for the reference server, "" for Prism
    authorization: str
    organization_id: str
    lead_id: str
    pipeline_id: str
    pid: int | None = None  # the server process, for its CPU time per request

    def request(self, operation: str) -> tuple[str, str]:
        """(method, path) of one measured operation."""
        return {
            "get": ("GET", f"{self.prefix}/leads/{self.lead_id}"),
            "list": ("GET", f"{self.prefix}/leads?limit=20"),
            "create": ("POST", f"{self.prefix}/leads"),
        }[operation]


def ensure_wrk(timeout: float = 300.0) -> tuple[str | None, str]:
    """The wrk executable (apt-get installed on first use, as root or with sudo -n), or None and why."""
    found = shutil.which("wrk")
    if found:
        return found, "found"
    apt = shutil.which("apt-get")
    if apt is None:
        return None, "skipped: wrk not found and no apt-get to install it"
    prefix: list[str] = []
    if os.geteuid() != 0:
        sudo = shutil.which("sudo")
        if sudo is None:
            return None, "skipped: wrk not found; install it with `apt-get install wrk` (as root)"
        prefix = [sudo, "-n"]
    print("  installing wrk with apt-get ...", flush=True)
    try:
        done = subprocess.run(
            [*prefix, apt, "install", "-y", "-q", "wrk"],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    except subprocess.TimeoutExpired:
        return None, f"skipped: apt-get install wrk did not finish within {timeout:.0f} s"
    found = shutil.which("wrk")
    if done.returncode != 0 or found is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return None, f"skipped: apt-get install wrk failed ({tail[0][:200]})"
    return found, "installed"


def server_pid(port: int) -> int | None:
    """The pid listening on a loopback `port` (from `ss`), or None when it cannot be told."""
    try:
        out = subprocess.run(
            ["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, timeout=10
        ).stdout
        return int(out[out.index("pid=") + 4 :].split(",")[0])
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a process, all its threads, from /proc (Linux)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def run_wrk(
    wrk: str, target: WrkTarget, operation: str, connections: int, seconds: float, threads: int = 1
) -> dict[str, Any]:
    """One wrk run; its requests, req/s and latency percentiles (ms), errors included."""
    method, path = target.request(operation)
    env = {
        **os.environ,
        "BENCH_METHOD": method,
        "BENCH_PATH": path,
        "BENCH_AUTHORIZATION": target.authorization,
        "BENCH_ORGANIZATION": target.organization_id,
        "BENCH_PIPELINE": target.pipeline_id,
        "BENCH_RUN": uuid.uuid4().hex[:12],
    }
    command = [
        wrk,
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={WRK_TIMEOUT}",
        "-s",
        str(SCRIPT),
        target.base_url + path,
    ]
    cpu_before = cpu_seconds(target.pid)
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=seconds + 60)
    cpu_after = cpu_seconds(target.pid)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if done.returncode != 0 or line is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"wrk failed (exit {done.returncode}): {tail[0][:200]}")
    raw = json.loads(line[len("WRKJSON ") :])
    duration = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "seconds": round(duration, 3),
        "throughput_rps": round(raw["requests"] / duration, 1) if duration else 0.0,
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p90_ms": round(raw["p90_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "non_2xx_3xx": raw["non_2xx_3xx"],
        "socket_errors": sum(raw[k] for k in raw if k.startswith("errors_")),
        # CPU the server spent per request: steadier than req/s on a machine others share.
        "server_cpu_ms_per_request": (
            round(1000 * (cpu_after - cpu_before) / raw["requests"], 3)
            if cpu_before is not None and cpu_after is not None and raw["requests"]
            else None
        ),
    }


def _combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Rounds of one cell: req/s over all rounds' requests and time; p50/p99 the rounds' mean."""
    seconds = sum(r["seconds"] for r in runs)
    mean = lambda key: round(sum(r[key] for r in runs) / len(runs), 2)  # noqa: E731
    return {
        "requests": sum(r["requests"] for r in runs),
        "throughput_rps": round(sum(r["requests"] for r in runs) / seconds, 1) if seconds else 0.0,
        "p50_ms": mean("p50_ms"),
        "p99_ms": mean("p99_ms"),
        "p99_ms_rounds": [r["p99_ms"] for r in runs],
        "throughput_rps_rounds": [r["throughput_rps"] for r in runs],
        "server_cpu_ms_per_request": (
            round(sum(cpu) / len(cpu), 3)
            if (
                cpu := [
                    r["server_cpu_ms_per_request"] for r in runs if r["server_cpu_ms_per_request"]
                ]
            )
            else None
        ),
        "non_2xx_3xx": sum(r["non_2xx_3xx"] for r in runs),
        "socket_errors": sum(r["socket_errors"] for r in runs),
    }


def measure(
    wrk: str,
    targets: list[WrkTarget],
    connection_counts: tuple[int, ...],
    seconds: float,
    warmup: float,
    rounds: int,
) -> dict[str, Any]:
    """results[conns][operation][target] after `rounds` alternations of the targets.

    Each cell alternates the targets round by round (reference, Prism, reference, Prism),
    so a slow spell of the shared machine falls on both; each measured run follows an
    unmeasured warm-up run of the same operation.
    """
    results: dict[str, Any] = {}
    for connections in connection_counts:
        per_op: dict[str, Any] = {}
        for operation in OPERATIONS:
            runs: dict[str, list[dict[str, Any]]] = {t.name: [] for t in targets}
            for _ in range(rounds):
                for target in targets:
                    if warmup > 0:
                        run_wrk(wrk, target, operation, connections, warmup)
                    runs[target.name].append(run_wrk(wrk, target, operation, connections, seconds))
            per_op[operation] = {name: _combine(r) for name, r in runs.items()}
            line = "  ".join(
                f"{name} {cell['throughput_rps']:8.1f} req/s p99 {cell['p99_ms']:7.2f} ms "
                f"cpu {cell['server_cpu_ms_per_request']} ms/req"
                for name, cell in per_op[operation].items()
            )
            print(f"  c={connections:<3} {operation:6} {line}", flush=True)
        results[str(connections)] = per_op
    return results


def ratios(
    results: dict[str, Any], ours: str = "reference", theirs: str = "prism"
) -> dict[str, Any]:
    """ours/theirs req/s and p99 per connection count and operation, and whether the target is met."""
    out: dict[str, Any] = {}
    for connections, per_op in results.items():
        out[connections] = {}
        for operation, cells in per_op.items():
            a, b = cells.get(ours), cells.get(theirs)
            if not a or not b:
                continue
            rps = (
                round(a["throughput_rps"] / b["throughput_rps"], 2) if b["throughput_rps"] else None
            )
            cpu_a, cpu_b = a.get("server_cpu_ms_per_request"), b.get("server_cpu_ms_per_request")
            out[connections][operation] = {
                "throughput": rps,
                "server_cpu_per_request": round(cpu_a / cpu_b, 2) if cpu_a and cpu_b else None,
                "p99": round(a["p99_ms"] / b["p99_ms"], 2) if b["p99_ms"] else None,
                # The goal of issue 10: >= 2x Prism's req/s with a p99 no worse than Prism's.
                "target_met": bool(rps is not None and rps >= 2.0 and a["p99_ms"] <= b["p99_ms"]),
            }
    return out
