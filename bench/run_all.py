"""Benchmarks (`make bench`): the reference server against Prism, the kit against schemathesis.

(a) Server: requests per second and latency (p50, p99) of three operations,
    measured with wrk (a compiled load generator, Debian's package, installed
    on first use as Prism is) at 8 and at 64 keep-alive connections, against
    the reference server and Prism's mock of the same bundled spec, both
    running for the whole run and measured alternately (reference, Prism,
    reference, Prism ...), each measurement after an unmeasured warm-up;
    reported as reference/Prism.
      get     GET  /leads/{lead_id}
      list    GET  /leads?limit=20
      create  POST /leads   (a fresh body and Idempotency-Key per request)
    Target (issue 10): >= 2x Prism's req/s with a p99 no worse than Prism's.
    The generator shares the machine's cores with the server; one wrk thread
    drives all connections, so it takes little of them.
(b) Kit: the wall time of `apollospace-conformance certify --embedded` with
    `--profile quick` (a smoke run without generated cases; goal under 30 s on
    2 cores) and `--profile standard` (the certification run). Then the first
    of them whose fuzz layer runs (standard, as quick has none) against a plain
    `st run` of the same spec with the same example count, the same generation
    modes and phases, the same seed, against the same kind of target (a fresh
    in-memory reference server with default settings, as --embedded starts
    it); reported as kit/schemathesis.
    Cases: for the kit, the calls of its fuzz layer (counted by
    bench/kit_counted.py); for st, the "N generated" of its summary. Two rates:
    cases per second of wall time (the kit also runs its behaviour tests, its
    stateful phase and the rate-limit probe), and cases per second of the
    generation phases alone (the kit's test_fuzz items in its report; st's
    examples, coverage and fuzzing phase times).

Results: build/bench/results.json and a table on stdout. Everything runs on
loopback and every step is bounded in time. Prism (@stoplight/prism-cli) is
installed with npm into a cache folder outside the repository; without npm its
column reads "skipped: npm not found". See bench/README.md for the profile of
the reference server and what was done about it.
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
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
DEFAULT_SPEC = ROOT / "build" / "openapi.json"
DEFAULT_OUT = ROOT / "build" / "bench"
DEFAULT_SEED = 20261128
SEEDED_LEADS = 40  # leads created before measuring, so `list` returns a full page of 20
CONNECTIONS = (8, 64)
PRISM_PACKAGE, PRISM_VERSION = "@stoplight/prism-cli", "5.16.0"
# Rate limits out of the way of a throughput measurement (the defaults answer 429 within seconds).
GENEROUS_RATE_LIMITS = (
    "--rate-limit=read=1000000000",
    "--rate-limit=write=1000000000",
    "--rate-limit=billable=1000000000",
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


# --- the two servers -----------------------------------------------------------------------------


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


def reference_target(creds: dict[str, Any]) -> Any:
    """The reference server as a wrk target: a real pipeline and one lead to read."""
    from refserver_process import auth_headers
    from wrk_load import WrkTarget, server_pid

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
    return WrkTarget(
        "reference",
        f"http://{host}:{port}",
        prefix,
        headers["Authorization"],
        headers["X-Organization-Id"],
        lead["id"],
        pipeline_id,
        server_pid(port),
    )


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


@contextmanager
def prism_target(executable: Path, spec: Path, output: Path) -> Iterator[Any]:
    """Prism's mock of `spec` on a free loopback port, as a wrk target; stopped on exit."""
    from refserver_process import stop_process, wait_until_answering
    from wrk_load import WrkTarget

    port = free_port()
    headers = {"Authorization": "Bearer bench", "X-Organization-Id": PRISM_IDS["organization"]}
    # -v warn: no line per request on stdout (the reference server runs without an access log too).
    command = [str(executable), "mock", "-h", "127.0.0.1", "-p", str(port), "-v", "warn", str(spec)]
    with (output / "prism.log").open("wb") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=output
        )
    try:
        wait_until_answering(
            f"http://127.0.0.1:{port}/leads?limit=1",
            headers,
            deadline=time.monotonic() + 60,
            process=process,
        )
        yield WrkTarget(
            "prism",
            f"http://127.0.0.1:{port}",
            "",
            headers["Authorization"],
            headers["X-Organization-Id"],
            PRISM_IDS["lead"],
            PRISM_IDS["pipeline"],
            process.pid,
        )
    finally:
        stop_process(process)


def bench_servers(args: argparse.Namespace) -> dict[str, Any]:
    """(a): both servers up, wrk alternating between them; results with ratios, or why skipped."""
    from refserver_process import ServerStartError, refserver
    from wrk_load import ensure_wrk, measure, ratios

    settings = {
        "connections": list(CONNECTIONS),
        "duration_seconds": args.duration,
        "warmup_seconds": args.warmup,
        "rounds": args.rounds,
        "load_generator": "wrk, one thread, keep-alive connections (bench/wrk/scenario.lua)",
        "seeded_leads": SEEDED_LEADS,
        "reference": "apollospace-refserver serve --memory, rate limits raised",
        "prism": f"{PRISM_PACKAGE}@{PRISM_VERSION} mock -v warn "
        "(static examples, request validation on)",
    }
    wrk, how = ensure_wrk()
    if wrk is None:
        return {"settings": settings, "skipped": how}
    executable, how = ensure_prism(args.prism_dir, timeout=600)
    if executable is None:
        return {"settings": settings, "skipped": f"Prism {how}"}
    try:
        with (
            refserver(GENEROUS_RATE_LIMITS) as creds,
            prism_target(executable, args.spec, args.output) as prism,
        ):
            reference = reference_target(creds)
            results = measure(
                wrk, [reference, prism], CONNECTIONS, args.duration, args.warmup, args.rounds
            )
    except ServerStartError as exc:
        return {"settings": settings, "skipped": f"a server did not start: {exc}"}
    return {"settings": settings, "results": results, "ratio_reference_over_prism": ratios(results)}


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


def bench_kit(
    output: Path, seed: int, timeout: float, profile_name: str = "quick"
) -> dict[str, Any]:
    """`certify --embedded --profile <profile_name>`: wall time, fuzz cases, verdict."""
    from apollospace_conformance.settings import PROFILE_SETTINGS

    profile = PROFILE_SETTINGS[profile_name]
    suffix = "" if profile_name == "quick" else f"-{profile_name}"
    report_dir = output / f"conformance{suffix}"
    count_file = output / f"kit-count{suffix}.json"
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
        profile_name,
        "--seed",
        str(seed),
        "--output",
        str(report_dir),
    ]
    code, seconds, _ = _run_bounded(command, timeout, output / f"kit{suffix}.log", ROOT)
    result: dict[str, Any] = {
        "command": f"apollospace-conformance certify --embedded --profile {profile_name} --seed {seed}",
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
        result["error"] = f"no case count (exit {code}); see {output / f'kit{suffix}.log'}"
        return result
    try:
        report = json.loads((report_dir / "report.json").read_text("utf-8"))
        result["verdict"] = report.get("verdict")
        result["requests_sent"] = report.get("provenance", {}).get("requests_sent")
        # junit.xml has a testcase per requirement; report.json keeps each test's duration.
        result["fuzz_layer_seconds"] = round(
            sum(t["duration_ms"] for t in report.get("tests", []) if "test_fuzz" in t["nodeid"])
            / 1000,
            2,
        )
    except (OSError, ValueError):
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


def _cell(value: Any, width: int) -> str:
    return f"{'-' if value is None else value!s:>{width}}"


def render(results: dict[str, Any]) -> str:
    """The readable table of `results`."""
    lines = []
    server = results.get("server")
    if server:
        settings = server["settings"]
        lines.append(
            f"Server (wrk): keep-alive connections {settings['connections']}, "
            f"{settings['rounds']} alternating rounds of {settings['duration_seconds']:g} s per cell, "
            f"each after {settings['warmup_seconds']:g} s warm-up"
        )
        if "skipped" in server:
            lines.append(f"  {server['skipped']}")
        else:
            head = [
                "ref req/s",
                "p99 ms",
                "Prism req/s",
                "p99 ms",
                "ref/Prism req/s",
                "p99",
                "CPU/req",
                "target",
            ]
            widths = [11, 9, 13, 9, 17, 7, 9, 8]
            lines.append(
                f"  {'conns':>5} {'operation':9}"
                + "".join(_cell(h, w) for h, w in zip(head, widths, strict=True))
            )
            odd = []
            for conns, per_op in server["results"].items():
                for name, cells in per_op.items():
                    ref, prism = cells["reference"], cells["prism"]
                    r = server["ratio_reference_over_prism"][conns][name]
                    row = [
                        ref["throughput_rps"],
                        ref["p99_ms"],
                        prism["throughput_rps"],
                        prism["p99_ms"],
                        r["throughput"],
                        r["p99"],
                        r["server_cpu_per_request"],
                        "met" if r["target_met"] else "MISSED",
                    ]
                    cells_text = "".join(_cell(v, w) for v, w in zip(row, widths, strict=True))
                    lines.append(f"  {conns:>5} {name:9}{cells_text}")
                    for who, cell in cells.items():
                        if cell["non_2xx_3xx"] or cell["socket_errors"]:
                            odd.append(
                                f"{who} {name} c={conns}: {cell['non_2xx_3xx']} non-2xx/3xx, "
                                f"{cell['socket_errors']} socket errors"
                            )
            lines.append(
                "  target (issue 10): ref/Prism req/s >= 2 and ref p99 <= Prism p99 (p99 ratio <= 1)."
                "\n  CPU/req: the server process's CPU time per request, ref/Prism (steadier than"
                "\n  req/s when other work shares the cores)"
            )
            for line in odd:
                lines.append(f"  note: {line}")
    kit = results.get("kit")
    if kit:
        quick, standard = kit.get("quick") or {}, kit.get("standard") or {}
        lines.append("")
        lines.append(
            f"Kit profiles (--embedded): quick {quick.get('wall_seconds')} s "
            f"(verdict {quick.get('verdict')}; a smoke run, goal under 30 s), "
            + (
                f"standard {standard['wall_seconds']} s (verdict {standard.get('verdict')})"
                if standard.get("wall_seconds") is not None
                else "standard not measured"
            )
        )
        if "kit" in kit:
            ours, theirs = kit["kit"], kit["schemathesis"]
            r, compared = kit["ratio_kit_over_schemathesis"], kit["compared_profile"]
            lines.append(
                f"Kit {compared} against st: {ours['max_examples']} examples per operation, "
                f"{ours['modes']}, same seed, each against a fresh in-memory reference server"
                + (
                    " (the kit's stateful phase is in its wall time, not its cases)"
                    if ours.get("stateful")
                    else ""
                )
            )
            lines.append(
                f"  {'':34}{'wall s':>9}{'cases':>8}{'cases/s':>9}{'gen. phase cases/s':>20}"
            )
            for label, run, cases, phase_rate in (
                (
                    f"apollospace-conformance {compared}",
                    ours,
                    "fuzz_cases",
                    "fuzz_layer_cases_per_second",
                ),
                ("st run (plain schemathesis)", theirs, "cases", "phases_cases_per_second"),
            ):
                lines.append(
                    f"  {label:34}{_cell(run.get('wall_seconds'), 9)}{_cell(run.get(cases), 8)}"
                    f"{_cell(run.get('cases_per_second'), 9)}{_cell(run.get(phase_rate), 20)}"
                )
            lines.append(
                f"  kit/st: wall time {r.get('wall_time')}, cases/s {r.get('cases_per_second')}, "
                f"generation-phase cases/s {r.get('generation_phase_cases_per_second')}"
            )
            lines.append(
                f"  kit: {ours.get('requests_sent')} requests in all (behaviour tests and the "
                f"rate-limit probe too); st: {theirs.get('failures')} failures"
            )
        else:
            lines.append("  no measured profile generates cases: no comparison with st")
        for who, run in (
            ("kit quick", quick),
            ("kit standard", standard),
            ("st", kit.get("schemathesis") or {}),
        ):
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
        "--duration",
        type=float,
        default=4.0,
        help="measured seconds per wrk run (default 4; whole seconds)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=1.0,
        help="unmeasured wrk run before each measured one, seconds (default 1; 0 for none)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="alternations of reference and Prism per operation and connection count (default 2)",
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
    parser.add_argument(
        "--skip-standard",
        action="store_true",
        help="in (b), skip the wall time of the standard profile (the longest step)",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.duration < 1 or args.warmup < 0:
        parser.error("--rounds and --duration must be at least 1, --warmup not negative")

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
        print("(a) server benchmark: wrk against the reference server and Prism", flush=True)
        results["server"] = bench_servers(args)
        if "skipped" in results["server"]:
            print(f"  {results['server']['skipped']}", flush=True)
    if not args.skip_kit:
        print("(b) kit: quick and standard profiles, and against plain schemathesis", flush=True)
        from apollospace_conformance.settings import PROFILE_SETTINGS

        runs: dict[str, Any] = {"quick": bench_kit(args.output, args.seed, args.step_timeout)}
        print(f"  kit quick: {runs['quick'].get('wall_seconds')} s", flush=True)
        if not args.skip_standard:
            runs["standard"] = bench_kit(args.output, args.seed, args.step_timeout, "standard")
            print(f"  kit standard: {runs['standard'].get('wall_seconds')} s", flush=True)
        results["kit"] = {"quick": runs["quick"], "standard": runs.get("standard")}
        # quick is a smoke run without generated cases (fuzz off): st is compared with the
        # first measured profile whose fuzz layer runs, with that profile's example count.
        compared = next(
            (name for name in runs if getattr(PROFILE_SETTINGS[name], "fuzz", True)), None
        )
        if compared is not None:
            profile, ours = PROFILE_SETTINGS[compared], runs[compared]
            theirs = bench_plain_schemathesis(
                args.spec,
                args.output,
                args.seed,
                profile.max_examples,
                profile.negative,
                args.step_timeout,
            )
            print(f"  st:  {theirs.get('wall_seconds')} s, {theirs.get('cases')} cases", flush=True)
            results["kit"].update(
                compared_profile=compared,
                kit=ours,
                schemathesis=theirs,
                ratio_kit_over_schemathesis={
                    "wall_time": ratio(ours.get("wall_seconds"), theirs.get("wall_seconds")),
                    "cases_per_second": ratio(
                        ours.get("cases_per_second"), theirs.get("cases_per_second")
                    ),
                    "generation_phase_cases_per_second": ratio(
                        ours.get("fuzz_layer_cases_per_second"),
                        theirs.get("phases_cases_per_second"),
                    ),
                },
            )
    results["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    path = args.output / "results.json"
    path.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    print()
    print(render(results))
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
