"""Benchmarks (`make bench`): the reference server against Prism, the kit against schemathesis.

(a) Server: throughput and latency (p50, p95) of three operations at a fixed
    concurrency, against the reference server and, in the same run, against
    Prism's mock server on the same bundled spec; reported as reference/Prism.
      list    GET  /leads?limit=20
      get     GET  /leads/{lead_id}
      create  POST /leads
    Each client is a thread with one keep-alive HTTP/1.1 connection (what an
    integrator's SDK does; --connection close opens one per request), sending
    back to back for a fixed time after a warm-up. The load generator shares the
    machine's cores with the server. A one-client probe compares a kept-alive
    connection with fresh ones, to flag a server socket without TCP_NODELAY.
(b) Kit: wall time and generated cases per second of
    `apollospace-conformance certify --embedded --profile quick`, against a
    plain `st run` of the same spec with the same example count, the same
    generation modes and phases, the same seed, against the same kind of
    target (a fresh in-memory reference server with default settings, as
    --embedded starts it); reported as kit/schemathesis.
    Cases: for the kit, the calls of its fuzz layer (counted by
    bench/kit_counted.py); for st, the "N generated" of its summary. Two rates:
    cases per second of wall time (the kit also runs its behaviour tests and
    the rate-limit probe), and cases per second of the generation phases alone
    (the kit's test_fuzz items in its JUnit report; st's examples, coverage and
    fuzzing phase times).

Results: build/bench/results.json and a table on stdout. Everything runs on
loopback and every step is bounded in time. Prism (@stoplight/prism-cli) is
installed with npm into a cache folder outside the repository; without npm its
column reads "skipped: npm not found".
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
DEFAULT_SPEC = ROOT / "build" / "openapi.json"
DEFAULT_OUT = ROOT / "build" / "bench"
DEFAULT_SEED = 20261128
SEEDED_LEADS = 40  # leads created before measuring, so `list` returns a full page of 20
PRISM_PACKAGE, PRISM_VERSION = "@stoplight/prism-cli", "5.16.0"
# Rate limits out of the way of a throughput measurement (the defaults answer 429 within seconds).
GENEROUS_RATE_LIMITS = (
    "--rate-limit=read=1000000",
    "--rate-limit=write=1000000",
    "--rate-limit=billable=1000000",
)
# Any UUID v4 will do for Prism, which serves the spec's examples whatever the id.
PRISM_IDS = {
    "lead": "0f8c2a4e-6b1d-4e3f-9a5c-7d2e1b0a9c8f",
    "pipeline": "6a3e9d12-4b7c-4f0e-8d1a-2c5b7e9f0a13",
    "organization": "9b2d4c6e-1f3a-4b5c-8d7e-0a1b2c3d4e5f",
}


def default_prism_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "apollospace-bench" / f"prism-cli-{PRISM_VERSION}"


# --- load generation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None
    expected: int


@dataclass(frozen=True)
class Target:
    name: str
    host: str
    port: int
    prefix: str  # "/v1" for the reference server, "" for Prism
    headers: dict[str, str]
    lead_id: str
    pipeline_id: str


def scenarios(target: Target) -> dict[str, Callable[[int], Request]]:
    """The three measured operations; each factory gets a request counter (unique create bodies)."""

    def create(n: int) -> Request:
        body = {
            "contact_name": f"Bench Lead {n}",
            "company_name": "Bench Inc",
            "pipeline_id": target.pipeline_id,
            "email": f"bench{n}@example.com",
            "tags": ["bench"],
            "value_cents": 100_000,
        }
        return Request("POST", f"{target.prefix}/leads", json.dumps(body).encode(), 201)

    return {
        "list": lambda n: Request("GET", f"{target.prefix}/leads?limit=20", None, 200),
        "get": lambda n: Request("GET", f"{target.prefix}/leads/{target.lead_id}", None, 200),
        "create": create,
    }


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), round(fraction * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def run_load(
    target: Target,
    make_request: Callable[[int], Request],
    clients: int,
    duration: float,
    warmup: float,
    keep_alive: bool = True,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """`clients` threads for warm-up + duration seconds.

    Each keeps one keep-alive connection, or opens one per request (`keep_alive=False`).
    """
    base_headers = {
        **target.headers,
        "Accept": "application/json",
        "Connection": "keep-alive" if keep_alive else "close",
    }
    start_line = threading.Barrier(clients + 1)
    window: dict[str, float] = {}
    latencies: list[list[float]] = [[] for _ in range(clients)]
    unexpected: list[dict[int, int]] = [{} for _ in range(clients)]
    errors = [0] * clients
    counter = iter(range(10**12))
    counter_lock = threading.Lock()

    def client(index: int) -> None:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
        start_line.wait()
        while True:
            now = time.perf_counter()
            if now >= window["end"]:
                break
            with counter_lock:
                n = next(counter)
            request = make_request(n)
            headers = dict(base_headers)
            if request.body is not None:
                headers["Content-Type"] = "application/json"
            began = time.perf_counter()
            try:
                connection.request(request.method, request.path, body=request.body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
                if not keep_alive:
                    connection.close()
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                connection.close()
                connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
                continue
            ended = time.perf_counter()
            if began >= window["start"] and ended <= window["end"]:
                latencies[index].append(ended - began)
                if status != request.expected:
                    unexpected[index][status] = unexpected[index].get(status, 0) + 1
        connection.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    now = time.perf_counter()
    window.update(start=now + warmup, end=now + warmup + duration)
    start_line.wait()
    for thread in threads:
        thread.join(timeout=warmup + duration + timeout + 5)
    flat = sorted(value for per_client in latencies for value in per_client)
    statuses: dict[str, int] = {}
    for per_client in unexpected:
        for status, count in per_client.items():
            statuses[str(status)] = statuses.get(str(status), 0) + count
    p50, p95 = percentile(flat, 0.50), percentile(flat, 0.95)
    return {
        "requests": len(flat),
        "throughput_rps": round(len(flat) / duration, 1),
        "p50_ms": None if p50 is None else round(p50 * 1000, 2),
        "p95_ms": None if p95 is None else round(p95 * 1000, 2),
        "unexpected_statuses": statuses,
        "connection_errors": sum(errors),
    }


def connection_probe(target: Target, samples: int = 20) -> dict[str, Any]:
    """Median latency of one sequential client, reusing a connection against opening one each time.

    A keep-alive request much slower than a fresh connection (about 40 ms on Linux) is the
    delayed-ACK/Nagle stall of a server socket without TCP_NODELAY; the note in the table
    says so, because it then dominates every keep-alive number.
    """
    request = scenarios(target)["get"](0)
    headers = {**target.headers, "Accept": "application/json"}
    medians = {}
    for mode in ("keep_alive", "new_connection"):
        timings = []
        connection = http.client.HTTPConnection(target.host, target.port, timeout=10)
        for _ in range(samples):
            began = time.perf_counter()
            connection.request(request.method, request.path, headers=headers)
            connection.getresponse().read()
            timings.append(time.perf_counter() - began)
            if mode == "new_connection":
                connection.close()
        connection.close()
        medians[f"{mode}_p50_ms"] = round(1000 * (percentile(sorted(timings), 0.5) or 0), 2)
    medians["nagle_stall_suspected"] = (
        medians["keep_alive_p50_ms"] > 20
        and medians["keep_alive_p50_ms"] > 3 * medians["new_connection_p50_ms"]
    )
    return medians


def bench_target(
    target: Target, clients: int, duration: float, warmup: float, keep_alive: bool = True
) -> dict[str, Any]:
    results = {}
    for name, factory in scenarios(target).items():
        results[name] = run_load(target, factory, clients, duration, warmup, keep_alive)
        print(
            f"  {target.name:9} {name:6} {results[name]['throughput_rps']:8.1f} req/s  "
            f"p50 {results[name]['p50_ms']} ms"
            f"  p95 {results[name]['p95_ms']} ms",
            flush=True,
        )
    return results


def _json_call(
    host: str, port: int, method: str, path: str, headers: dict[str, str], body: Any = None
) -> tuple[int, Any]:
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        payload = None if body is None else json.dumps(body).encode()
        connection.request(
            method, path, body=payload, headers={**headers, "Content-Type": "application/json"}
        )
        response = connection.getresponse()
        raw = response.read()
        return response.status, (json.loads(raw) if raw else None)
    finally:
        connection.close()


def reference_target(creds: dict[str, Any]) -> Target:
    """The reference server as a target: a real pipeline and one lead to read."""
    from refserver_process import auth_headers

    url = urlparse(creds["url"])
    headers = auth_headers(creds["tenant_a"])
    host, port, prefix = url.hostname or "127.0.0.1", int(url.port or 80), url.path.rstrip("/")
    status, page = _json_call(host, port, "GET", f"{prefix}/pipelines", headers)
    if status != 200 or not page.get("items"):
        raise RuntimeError(f"GET /pipelines answered {status}; cannot set up the benchmark")
    pipeline_id = page["items"][0]["id"]
    # A full first page for `list` (Prism serves its static example page whatever the data).
    for n in range(SEEDED_LEADS):
        status, lead = _json_call(
            host,
            port,
            "POST",
            f"{prefix}/leads",
            headers,
            {"contact_name": f"Bench Reader {n}", "pipeline_id": pipeline_id},
        )
        if status != 201:
            raise RuntimeError(f"POST /leads answered {status}; cannot set up the benchmark")
    return Target("reference", host, port, prefix, headers, lead["id"], pipeline_id)


# --- Prism -------------------------------------------------------------------------------------


def ensure_prism(folder: Path, timeout: float) -> tuple[Path | None, str]:
    """Prism's executable (installed with npm on first use), or None and why not."""
    executable = folder / "node_modules" / ".bin" / "prism"
    manifest = folder / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
    try:
        if (
            executable.is_file()
            and json.loads(manifest.read_text("utf-8")).get("version") == PRISM_VERSION
        ):
            return executable, "cached"
    except (OSError, ValueError):
        pass
    npm = shutil.which("npm")
    if npm is None:
        return None, "skipped: npm not found"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"  installing {PRISM_PACKAGE}@{PRISM_VERSION} into {folder} ...", flush=True)
    try:
        done = subprocess.run(
            [
                npm,
                "install",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--prefix",
                str(folder),
                f"{PRISM_PACKAGE}@{PRISM_VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return None, f"skipped: npm install did not finish within {timeout:.0f} s"
    if done.returncode != 0 or not executable.is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return None, f"skipped: npm install failed ({tail[0][:200]})"
    return executable, "installed"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def bench_prism(
    executable: Path,
    spec: Path,
    output: Path,
    clients: int,
    duration: float,
    warmup: float,
    keep_alive: bool = True,
) -> dict[str, Any]:
    from refserver_process import ServerStartError, stop_process, wait_until_answering

    port = free_port()
    headers = {"Authorization": "Bearer bench", "X-Organization-Id": PRISM_IDS["organization"]}
    # -v warn: no line per request on stdout (the reference server runs without an access log too).
    command = [str(executable), "mock", "-h", "127.0.0.1", "-p", str(port), "-v", "warn", str(spec)]
    with (output / "prism.log").open("wb") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=output
        )
    try:
        try:
            wait_until_answering(
                f"http://127.0.0.1:{port}/leads?limit=1",
                headers,
                deadline=time.monotonic() + 60,
                process=process,
            )
        except ServerStartError as exc:
            return {"skipped": f"Prism did not start: {exc} (see {output / 'prism.log'})"}
        target = Target(
            "prism", "127.0.0.1", port, "", headers, PRISM_IDS["lead"], PRISM_IDS["pipeline"]
        )
        return bench_target(target, clients, duration, warmup, keep_alive)
    finally:
        stop_process(process)


# --- kit against plain schemathesis -------------------------------------------------------


def _run_bounded(
    command: list[str], timeout: float, log: Path, cwd: Path
) -> tuple[int | None, float, str]:
    """Run a command with output to `log`; (exit code or None on timeout, seconds, output)."""
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as sink:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env={**os.environ, "NO_COLOR": "1"},
        )
        try:
            code: int | None = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            from refserver_process import stop_process

            stop_process(process)
            code = None
    return code, time.monotonic() - started, log.read_text("utf-8", errors="replace")


def bench_kit(output: Path, seed: int, timeout: float) -> dict[str, Any]:
    from apollospace_conformance.settings import PROFILE_SETTINGS

    profile = PROFILE_SETTINGS["quick"]
    report_dir = output / "conformance"
    count_file = output / "kit-count.json"
    count_file.unlink(missing_ok=True)
    command = [
        sys.executable,
        str(BENCH / "kit_counted.py"),
        "--count-file",
        str(count_file),
        "--",
        "certify",
        "--embedded",
        "--profile",
        "quick",
        "--seed",
        str(seed),
        "--output",
        str(report_dir),
    ]
    code, seconds, _ = _run_bounded(command, timeout, output / "kit.log", ROOT)
    result: dict[str, Any] = {
        "command": "apollospace-conformance certify --embedded --profile quick --seed " + str(seed),
        "exit_code": code,
        "wall_seconds": round(seconds, 2),
        "max_examples": profile.max_examples,
        "modes": "positive,negative" if profile.negative else "positive",
        "stateful": profile.stateful,
    }
    if code is None:
        result["error"] = f"timed out after {timeout:.0f} s"
        return result
    try:
        result["fuzz_cases"] = json.loads(count_file.read_text("utf-8"))["fuzz_cases"]
    except (OSError, ValueError, KeyError):
        result["error"] = f"no case count (exit {code}); see {output / 'kit.log'}"
        return result
    try:
        report = json.loads((report_dir / "report.json").read_text("utf-8"))
        result["verdict"] = report.get("verdict")
        result["requests_sent"] = report.get("provenance", {}).get("requests_sent")
    except (OSError, ValueError):
        pass
    try:
        cases = ET.parse(report_dir / "junit.xml").getroot().iter("testcase")
        result["fuzz_layer_seconds"] = round(
            sum(
                float(c.get("time") or 0)
                for c in cases
                if (c.get("name") or "").startswith("test_fuzz")
            ),
            2,
        )
    except (OSError, ET.ParseError):
        pass
    result["cases_per_second"] = round(result["fuzz_cases"] / seconds, 1) if seconds else None
    if result.get("fuzz_layer_seconds"):
        result["fuzz_layer_cases_per_second"] = round(
            result["fuzz_cases"] / result["fuzz_layer_seconds"], 1
        )
    return result


def bench_plain_schemathesis(
    spec: Path, output: Path, seed: int, max_examples: int, negative: bool, timeout: float
) -> dict[str, Any]:
    """`st run` with the kit's quick settings against a fresh reference server like --embedded's.

    It uses the schemathesis.toml that bench/run_schemathesis.py derives from the spec (the
    semantic 400s as expected statuses, no example database, no cache): without it, st
    reports the documented invalid_cursor-style 400s as failures and spends time shrinking
    them, which the kit (whose check knows those codes) does not.
    """
    from refserver_process import auth_headers, refserver
    from run_schemathesis import derive_config

    # What the kit's @schema.parametrize() runs; the quick profile has no stateful phase.
    phases = "examples,coverage,fuzzing"
    mode = "all" if negative else "positive"
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="apollospace-bench-st-") as scratch,
        refserver() as creds,
    ):
        server_seconds = time.monotonic() - started
        config = output / "schemathesis.toml"
        config.write_text(
            derive_config(json.loads(spec.read_text("utf-8")), seed, Path(scratch) / "state"),
            "utf-8",
        )
        command = [
            str(Path(sys.executable).parent / "st"),
            "--config-file",
            str(config),
            "run",
            str(spec),
            "--url",
            creds["url"],
            "--checks",
            "all",
            "--mode",
            mode,
            "--phases",
            phases,
            "--max-examples",
            str(max_examples),
            "--seed",
            str(seed),
            "--generation-database",
            "none",
            "--workers",
            "1",
            "--no-color",
        ]
        for name, value in auth_headers(creds["tenant_a"]).items():
            command += ["-H", f"{name}: {value}"]
        # A scratch working directory: st's .hypothesis/ and .schemathesis/ stay out of the repo.
        code, st_seconds, text = _run_bounded(
            command, timeout, output / "schemathesis.log", Path(scratch)
        )
    seconds = server_seconds + st_seconds
    result: dict[str, Any] = {
        "command": "st --config-file build/bench/schemathesis.toml run build/openapi.json "
        f"--checks all --mode {mode} --phases {phases} "
        f"--max-examples {max_examples} --seed {seed} --generation-database none --workers 1",
        "exit_code": code,
        "wall_seconds": round(seconds, 2),
        "server_start_seconds": round(server_seconds, 2),
        "max_examples": max_examples,
        "modes": "positive,negative" if negative else "positive",
        "stateful": False,
    }
    if code is None:
        result["error"] = f"timed out after {timeout:.0f} s"
        return result
    generated = re.findall(r"(\d+) generated", text)
    failures = re.findall(r"(\d+) (?:unique )?failures?\b", text)
    phase_times = {
        name.lower(): float(value)
        for name, value in re.findall(
            r"(Examples|Coverage|Fuzzing|Stateful) \(in ([\d.]+)s\)", text
        )
    }
    if not generated:
        result["error"] = f"no case count in the output; see {output / 'schemathesis.log'}"
        return result
    result["cases"] = int(generated[-1])
    result["failures"] = int(failures[-1]) if failures else 0
    result["phase_seconds"] = phase_times
    result["cases_per_second"] = round(result["cases"] / seconds, 1) if seconds else None
    if phase_times:
        result["phases_cases_per_second"] = round(result["cases"] / sum(phase_times.values()), 1)
    return result


# --- report ------------------------------------------------------------------------------------


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def server_ratios(reference: dict[str, Any], prism: dict[str, Any]) -> dict[str, Any]:
    if "skipped" in prism:
        return {"skipped": prism["skipped"]}
    return {
        name: {
            "throughput": ratio(reference[name]["throughput_rps"], prism[name]["throughput_rps"]),
            "p50": ratio(reference[name]["p50_ms"], prism[name]["p50_ms"]),
            "p95": ratio(reference[name]["p95_ms"], prism[name]["p95_ms"]),
        }
        for name in reference
    }


def _cell(value: Any, width: int) -> str:
    return f"{'-' if value is None else value!s:>{width}}"


def render(results: dict[str, Any]) -> str:
    """The readable table of `results`."""
    lines = []
    server = results.get("server")
    if server:
        settings, prism = server["settings"], server["prism"]
        lines.append(
            f"Server: {settings['clients']} clients ({settings['connections']}), "
            f"{settings['duration_seconds']:g} s per operation, "
            f"after {settings['warmup_seconds']:g} s warm-up"
        )
        head = [
            "ref req/s",
            "p50 ms",
            "p95 ms",
            "Prism req/s",
            "p50 ms",
            "p95 ms",
            "ref/Prism req/s",
            "p50",
        ]
        widths = [11, 9, 9, 13, 9, 9, 17, 7]
        lines.append(
            f"  {'operation':9}" + "".join(_cell(h, w) for h, w in zip(head, widths, strict=True))
        )
        for name, ref in server["reference"].items():
            row = [ref["throughput_rps"], ref["p50_ms"], ref["p95_ms"]]
            if "skipped" in prism:
                tail = f"   Prism {prism['skipped']}"
            else:
                other, r = prism[name], server["ratio_reference_over_prism"][name]
                row += [
                    other["throughput_rps"],
                    other["p50_ms"],
                    other["p95_ms"],
                    r["throughput"],
                    r["p50"],
                ]
                tail = ""
            cells = "".join(_cell(v, w) for v, w in zip(row, widths, strict=False))
            lines.append(f"  {name:9}{cells}{tail}")
        probe = server.get("reference_connection_probe") or {}
        if probe.get("nagle_stall_suspected"):
            lines.append(
                f"  note: one client alone waits {probe['keep_alive_p50_ms']} ms per request on a "
                f"kept-alive connection, {probe['new_connection_p50_ms']} ms on a new one: the\n"
                "  reference server's sockets lack TCP_NODELAY (delayed ACK + Nagle), which caps\n"
                "  every keep-alive number above"
            )
        for who in ("reference", "prism"):
            runs = server[who] if "skipped" not in server[who] else {}
            odd = {
                name: {"statuses": run["unexpected_statuses"], "errors": run["connection_errors"]}
                for name, run in runs.items()
                if run["unexpected_statuses"] or run["connection_errors"]
            }
            if odd:
                lines.append(f"  note: {who} answered unexpectedly: {odd}")
    kit = results.get("kit")
    if kit:
        ours, theirs, r = kit["kit"], kit["schemathesis"], kit["ratio_kit_over_schemathesis"]
        lines.append("")
        lines.append(
            f"Kit: {ours['max_examples']} examples per operation, {ours['modes']}, same seed, "
            "each against a fresh in-memory reference server"
        )
        lines.append(f"  {'':30}{'wall s':>9}{'cases':>8}{'cases/s':>9}{'gen. phase cases/s':>20}")
        for label, run, cases, phase_rate in (
            ("apollospace-conformance quick", ours, "fuzz_cases", "fuzz_layer_cases_per_second"),
            ("st run (plain schemathesis)", theirs, "cases", "phases_cases_per_second"),
        ):
            lines.append(
                f"  {label:30}{_cell(run.get('wall_seconds'), 9)}{_cell(run.get(cases), 8)}"
                f"{_cell(run.get('cases_per_second'), 9)}{_cell(run.get(phase_rate), 20)}"
            )
        lines.append(
            f"  kit/st: wall time {r.get('wall_time')}, cases/s {r.get('cases_per_second')}, "
            f"generation-phase cases/s {r.get('generation_phase_cases_per_second')}"
        )
        lines.append(
            f"  kit: verdict {ours.get('verdict')}, {ours.get('requests_sent')} requests in all "
            f"(behaviour tests and the rate-limit probe too); st: {theirs.get('failures')} failures"
        )
        for who, run in (("kit", ours), ("st", theirs)):
            if run.get("error"):
                lines.append(f"  {who}: {run['error']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog="Writes build/bench/results.json."
    )
    parser.add_argument(
        "--spec",
        type=Path,
        default=DEFAULT_SPEC,
        help="bundled spec (default: build/openapi.json; `make bundle`)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUT,
        help="folder for results.json and logs (default build/bench)",
    )
    parser.add_argument(
        "--clients",
        type=int,
        default=8,
        help="concurrent clients of the server benchmark (default 8)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=5.0,
        help="measured seconds per operation and server (default 5)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=1.0,
        help="unmeasured seconds before each measurement (default 1)",
    )
    parser.add_argument(
        "--connection",
        choices=("keep-alive", "close"),
        default="keep-alive",
        help="one keep-alive connection per client (default), or a new connection per request",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="seed of the kit and of st run"
    )
    parser.add_argument(
        "--prism-dir",
        type=Path,
        default=default_prism_dir(),
        help="where npm installs Prism (default: a user cache folder)",
    )
    parser.add_argument(
        "--step-timeout",
        type=float,
        default=900.0,
        help="bound on each of the kit and st runs, in seconds (default 900)",
    )
    parser.add_argument("--skip-server", action="store_true", help="skip (a), the server benchmark")
    parser.add_argument(
        "--skip-kit", action="store_true", help="skip (b), the kit against plain schemathesis"
    )
    args = parser.parse_args(argv)
    if args.clients < 1 or args.duration <= 0 or args.warmup < 0:
        parser.error("--clients must be at least 1, --duration positive and --warmup not negative")

    from refserver_process import refserver

    if not args.spec.is_file():
        print(f"run_all: {args.spec} is missing; run `make bundle` first", file=sys.stderr)
        return 2
    args.output.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "spec": str(args.spec.relative_to(ROOT) if args.spec.is_relative_to(ROOT) else args.spec),
        "run_id": uuid.uuid4().hex[:12],
    }
    if not args.skip_server:
        print("(a) server benchmark", flush=True)
        keep_alive = args.connection == "keep-alive"
        with refserver(GENEROUS_RATE_LIMITS) as creds:
            target = reference_target(creds)
            probe = connection_probe(target)
            reference = bench_target(target, args.clients, args.duration, args.warmup, keep_alive)
        executable, how = ensure_prism(args.prism_dir, timeout=600)
        prism = (
            {"skipped": how}
            if executable is None
            else bench_prism(
                executable,
                args.spec,
                args.output,
                args.clients,
                args.duration,
                args.warmup,
                keep_alive,
            )
        )
        results["server"] = {
            "settings": {
                "clients": args.clients,
                "duration_seconds": args.duration,
                "warmup_seconds": args.warmup,
                "connections": "one keep-alive HTTP/1.1 connection per client"
                if keep_alive
                else "a new connection per request",
                "seeded_leads": SEEDED_LEADS,
                "reference": "apollospace-refserver serve --memory, rate limits raised to 1000000",
                "prism": f"{PRISM_PACKAGE}@{PRISM_VERSION} mock -v warn "
                "(static examples, request validation on)",
            },
            "reference": reference,
            "reference_connection_probe": probe,
            "prism": prism,
            "ratio_reference_over_prism": server_ratios(reference, prism),
        }
    if not args.skip_kit:
        print("(b) kit against plain schemathesis", flush=True)
        from apollospace_conformance.settings import PROFILE_SETTINGS

        quick = PROFILE_SETTINGS["quick"]
        ours = bench_kit(args.output, args.seed, args.step_timeout)
        print(
            f"  kit: {ours.get('wall_seconds')} s, {ours.get('fuzz_cases')} fuzz cases", flush=True
        )
        theirs = bench_plain_schemathesis(
            args.spec, args.output, args.seed, quick.max_examples, quick.negative, args.step_timeout
        )
        print(f"  st:  {theirs.get('wall_seconds')} s, {theirs.get('cases')} cases", flush=True)
        results["kit"] = {
            "kit": ours,
            "schemathesis": theirs,
            "ratio_kit_over_schemathesis": {
                "wall_time": ratio(ours.get("wall_seconds"), theirs.get("wall_seconds")),
                "cases_per_second": ratio(
                    ours.get("cases_per_second"), theirs.get("cases_per_second")
                ),
                "generation_phase_cases_per_second": ratio(
                    ours.get("fuzz_layer_cases_per_second"), theirs.get("phases_cases_per_second")
                ),
            },
        }
    results["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    path = args.output / "results.json"
    path.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    print()
    print(render(results))
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
