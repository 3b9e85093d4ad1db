"""A plain `schemathesis run` (the CLI) against the reference server, with the bundled spec.

The done-criterion this script checks: "A plain `schemathesis run` (the CLI, all
checks, positive and negative data, the stateful phase, at least 100 examples per
operation) against the running server with the bundled spec reports 0 failures".

What it does:
1. starts the reference server (in memory, loopback, port 0) with rate limits
   high enough that schemathesis never meets a 429 (rate limiting is certified
   by the kit's probe, not here);
2. writes build/schemathesis/schemathesis.toml, DERIVED FROM THE SPEC (nothing
   is written per operation by hand; see `derive_config`);
3. runs `st run build/openapi.json --checks all --mode all --phases
   examples,coverage,fuzzing,stateful --max-examples N --seed S` with the
   tenant A headers (-H), and writes a JUnit report next to the config;
4. prints the failure count and exits with schemathesis' exit code.

Checks: `--checks all`, none excluded; one configured. Why each one stays:
- not_a_server_error, status_code_conformance, content_type_conformance,
  response_headers_conformance, response_schema_conformance: the spec documents
  every status, media type, header and body the server may send.
- positive_data_acceptance: CONFIGURED. Schema-valid input may legitimately get
  an operation's own semantic 400 (x-apollospace-errors: invalid_cursor for any
  opaque cursor string, stage_order_not_permutation, owner_not_member, ...);
  for exactly those operations 400 joins schemathesis' default expected
  statuses (SCHEMATHESIS-NOTES pitfall 5). Limit: the check cannot tell codes
  apart, so on those operations a wrong 400 validation_failed to valid input
  would pass here (the kit's valid-input-accepted check does tell them apart).
  In the stateful phase only, 400 also joins them on operations whose path
  parameter is a nullable response field elsewhere (StarsTransaction.agent_id):
  schemathesis 4.32's inferred links carry that null into the path as 'None'
  (GET /agents/None, after a ledger line no agent caused), and a 400 for a
  non-UUID path id is the documented answer.
- negative_data_rejection: default statuses; the server answers 400
  validation_failed to schema-invalid input.
- missing_required_header: default statuses; a missing X-Organization-Id gets
  403 organization_required, a missing Authorization 401.
- unsupported_method, allow_header_conformance: the server answers 405 with an
  Allow header to methods a path does not declare.
- ignored_auth: the bearer token given with -H is the spec's bearerAuth, so
  schemathesis treats it as explicit auth and re-sends once per operation
  without it and with an invalid one, expecting 401.
- use_after_free, ensure_resource_availability: fed by the stateful phase.
- object_level_authorization: on, but inert here: it needs two identities
  declared as Web Fuzzing Commons peers (--auth-wfc); tenant isolation is
  certified by the kit with tenant B.

Usage: python bench/run_schemathesis.py [--max-examples 100] [--seed 20261128]
                                         [-- extra st run args]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from apollospace_spec.model import resolve

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = ROOT / "build" / "openapi.json"
DEFAULT_OUT = ROOT / "build" / "schemathesis"
DEFAULT_SEED = 20261128
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Rate limits far above anything a run can send: a 429 would only add noise here.
GENEROUS_RATE_LIMITS = ("read=1000000", "write=1000000", "billable=1000000")
# schemathesis' own default for positive_data_acceptance (schemathesis/config/_checks.py, 4.32):
# statuses a schema-valid request may legitimately get. We only ever add to it.
POSITIVE_ACCEPTANCE_DEFAULT = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation object) of every operation of the spec."""
    found = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            if isinstance(item.get(method), dict):
                found.append((method.upper(), path, item[method]))
    return found


def semantic_statuses(operation: dict[str, Any], outside: list[str]) -> list[int]:
    """Statuses of the operation's own error codes (x-apollospace-errors) not in `outside`.

    Such a status answers a request that is valid against the schema but wrong
    for the data (an unknown cursor, a stage order that is not a permutation,
    an owner who is not a member...): schemathesis cannot know the data, so a
    correct server legitimately answers it to a positive case.
    """
    statuses = set()
    for entry in operation.get("x-apollospace-errors", []) or []:
        status = int(entry["status"])
        if not any(_status_matches(pattern, status) for pattern in outside):
            statuses.add(status)
    return sorted(statuses)


def _status_matches(pattern: str, status: int) -> bool:
    pattern = pattern.upper()
    return len(pattern) == 3 and all(
        p == "X" or p == s for p, s in zip(pattern, str(status), strict=True)
    )


def _expected_statuses(prefix: str, statuses: list[str]) -> str:
    return f"{prefix}.positive_data_acceptance.expected-statuses = [{', '.join(_toml_string(s) for s in statuses)}]"


def path_parameter_names(spec: dict[str, Any], path: str, operation: dict[str, Any]) -> list[str]:
    """Names of the operation's path parameters, declared on the path item or the operation."""
    item = spec["paths"][path]
    declared = [resolve(spec, p) for p in [*item.get("parameters", []), *operation.get("parameters", [])]]
    return [p["name"] for p in declared if p.get("in") == "path"]


def nullable_id_fields(spec: dict[str, Any]) -> set[str]:
    """Names of the `*_id` properties that admit null anywhere in the spec's schemas (StarsTransaction.agent_id, ...)."""
    found: set[str] = set()
    pending: list[Any] = [spec.get("components", {}).get("schemas", {})]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        for name, schema in (node.get("properties") or {}).items():
            if name.endswith("_id") and isinstance(schema, dict) and _admits_null(schema):
                found.add(name)
        pending.extend(node.values())
    return found


def _admits_null(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(isinstance(s, dict) and _admits_null(s) for s in [*schema.get("oneOf", []), *schema.get("anyOf", [])])


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def derive_config(spec: dict[str, Any], seed: int, state_dir: Path) -> str:
    """The schemathesis.toml for this spec; every operation-specific line is computed from it."""
    lines = [
        "# Written by bench/run_schemathesis.py from the bundled spec on every run; do not edit.",
        f"seed = {seed}",
        "",
        "[generation]",
        "# Hypothesis' example database would replay failures of earlier runs first:",
        "# every run must be a function of the seed alone.",
        'database = "none"',
        "",
        "[cache]",
        "# schemathesis 4.32 replays requests cached by earlier runs (.schemathesis/): off,",
        "# for the same reason; its directory (crash files) is kept out of the working directory.",
        "enabled = false",
        f"directory = {_toml_string(str(state_dir))}",
        "",
        "[phases.fuzzing.extra-data-sources]",
        "# Fuzzing reuses values seen in earlier responses by default; with it, --seed alone",
        "# did not reproduce a run (shared/SCHEMATHESIS-NOTES.md, pitfall 10).",
        "responses = false",
    ]
    nullable = nullable_id_fields(spec)
    for method, path, operation in operations(spec):
        operation_id = operation.get("operationId")
        extra = semantic_statuses(operation, POSITIVE_ACCEPTANCE_DEFAULT)
        null_linked = [] if 400 in extra else sorted(set(path_parameter_names(spec, path, operation)) & nullable)
        if not extra and not null_linked:
            continue
        if not operation_id:
            raise SystemExit(
                f"run_schemathesis: {method} {path} has no operationId; "
                "the config selects operations by it"
            )
        comments: list[str] = []
        settings: list[str] = []
        if extra:
            codes = ", ".join(
                f"{e['code']} {e['status']}"
                for e in operation["x-apollospace-errors"]
                if int(e["status"]) in extra
            )
            comments += [
                f"# {method} {path}: x-apollospace-errors documents {codes},",
                "# the answer to input that is valid against the schema but not against the data.",
            ]
            settings.append(_expected_statuses("checks", POSITIVE_ACCEPTANCE_DEFAULT + [str(s) for s in extra]))
        if null_linked:
            comments += [
                f"# {method} {path}: {', '.join(null_linked)} is also a nullable response field. Inferred links",
                "# of schemathesis 4.32 carry its null into the path ('.../None'), which the server",
                "# rightly answers 400; only in the stateful phase, 400 joins the expected statuses.",
            ]
            settings.append(_expected_statuses("phases.stateful.checks", POSITIVE_ACCEPTANCE_DEFAULT + ["400"]))
        lines += ["", *comments, "[[operations]]", f"include-operation-id = {_toml_string(operation_id)}", *settings]
    return "\n".join(lines) + "\n"


def count_failures(junit: Path) -> int | None:
    """Test cases with a failure or an error in schemathesis' JUnit report (None: no report)."""
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError):
        return None
    cases = root.iter("testcase")
    return sum(
        1 for case in cases if case.find("failure") is not None or case.find("error") is not None
    )


def failures_from_output(output: str, exit_code: int) -> int | None:
    """The unique failures of st's summary ("... 5 unique failures"; none named when it passed)."""
    found = re.findall(r"(\d+) (?:unique )?failures?\b", output)
    if found:
        return int(found[-1])
    return 0 if exit_code == 0 else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Arguments after `--` go to `st run` unchanged.",
    )
    parser.add_argument(
        "--spec",
        type=Path,
        default=DEFAULT_SPEC,
        help="bundled spec (default: build/openapi.json; `make bundle`)",
    )
    parser.add_argument(
        "--max-examples",
        type=int,
        default=100,
        help="examples per operation in the fuzzing phase (default 100)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--workers",
        default="1",
        help="st run --workers (default 1: 2 cores, and the server shares them)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUT,
        help="folder for schemathesis.toml and the reports (default build/schemathesis)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=3600.0,
        help="hard bound on the st run, in seconds (default 3600)",
    )
    parser.add_argument("st_args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    from refserver_process import auth_headers, refserver, stop_process

    if not args.spec.is_file():
        print(f"run_schemathesis: {args.spec} is missing; run `make bundle` first", file=sys.stderr)
        return 2
    spec = json.loads(args.spec.read_text("utf-8"))
    args.output.mkdir(parents=True, exist_ok=True)
    config = args.output / "schemathesis.toml"
    config.write_text(derive_config(spec, args.seed, args.output / "state"), "utf-8")
    junit = args.output / "junit.xml"
    junit.unlink(missing_ok=True)
    st = Path(sys.executable).parent / "st"

    with refserver([f"--rate-limit={limit}" for limit in GENEROUS_RATE_LIMITS]) as creds:
        headers = auth_headers(creds["tenant_a"])
        command = [
            str(st),
            "--config-file",
            str(config),
            "run",
            str(args.spec),
            "--url",
            creds["url"],
            "--checks",
            "all",
            "--mode",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            str(args.max_examples),
            "--seed",
            str(args.seed),
            "--workers",
            str(args.workers),
            "--request-timeout",
            "30",
            "--report",
            "junit",
            "--report-dir",
            str(args.output),
            "--report-junit-path",
            str(junit),
            "--no-color",
            *args.st_args,
        ]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        shown = [
            part
            if not part.startswith("Authorization:")
            else "Authorization: Bearer <tenant A token>"
            for part in command
        ]
        print("$ " + " ".join(shown), flush=True)
        started = time.monotonic()
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=args.output,
            env={**os.environ, "NO_COLOR": "1"},
        )
        captured: list[str] = []
        # A watchdog bounds the run even when st prints nothing.
        watchdog = threading.Timer(args.timeout, stop_process, args=(process,))
        watchdog.daemon = True
        watchdog.start()
        try:
            assert process.stdout is not None
            for line in process.stdout:
                sys.stdout.write(line)
                captured.append(line)
            process.wait()
        finally:
            watchdog.cancel()
            stop_process(process)
        if time.monotonic() - started >= args.timeout:
            print(
                f"run_schemathesis: st run exceeded {args.timeout:.0f} s and was stopped",
                file=sys.stderr,
            )
        code = process.returncode if process.returncode is not None else 1
    elapsed = time.monotonic() - started
    # st's summary counts unique failures; JUnit has one entry per failing operation or scenario.
    failures = failures_from_output("".join(captured), code)
    failing_tests = count_failures(junit)
    shown_failures = "unknown" if failures is None else str(failures)
    shown_tests = "" if failing_tests is None else f" in {failing_tests} operation(s)/scenario(s)"
    print(
        f"\nrun_schemathesis: {shown_failures} failures{shown_tests}; st run exit code {code}; "
        f"{elapsed:.0f} s; config {config}; JUnit {junit}"
    )
    return code


if __name__ == "__main__":
    raise SystemExit(main())
