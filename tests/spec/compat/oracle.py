"""Run an established diff tool (Optic) on the corpus and record its verdict beside ours.

    .venv/bin/python -m tests.spec.compat.oracle [--optic PATH]

Optic is installed into a cache folder, never into the repository:
    mkdir -p ~/.cache/apollospace-oracle && cd ~/.cache/apollospace-oracle
    npm install @useoptic/optic   # 1.0.9; then remove the nested @stoplight/*/node_modules/ajv (see ORACLE.md)
Writes tests/spec/compat/oracle-verdicts.json; ORACLE.md explains each disagreement.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

from apollospace_spec.compat import compare
from tests.spec.compat.corpus_pairs import load_pair, pair_files, verdict

HERE = Path(__file__).parent
DEFAULT_OPTIC = Path.home() / ".cache" / "apollospace-oracle" / "node_modules" / ".bin" / "optic"
_CHECK = re.compile(r"^\s*x \[([^\]]+)\] (.*)$")


def optic_verdict(optic: Path, base: dict, head: dict) -> tuple[str, list[str], int]:
    """Optic's verdict on one pair: breaking when a check fails, non-breaking when it lists changes, none otherwise."""
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "base.json").write_text(json.dumps(base), "utf-8")
        (Path(folder) / "head.json").write_text(json.dumps(head), "utf-8")
        result = subprocess.run([str(optic), "diff", "base.json", "head.json", "--check"], cwd=folder, capture_output=True, text=True,
                                timeout=300, env={**os.environ, "OPTIC_TELEMETRY_LEVEL": "off", "CI": "true"})
    output = result.stdout + result.stderr
    checks = sorted({f"[{m.group(1)}] {m.group(2).strip()}" for line in output.splitlines() if (m := _CHECK.match(line))})
    if checks or result.returncode != 0:
        return "breaking", checks or output.strip().splitlines()[-3:], result.returncode
    changed = re.search(r"Operations: (\d+) operations? (changed|added|removed)", output) or "specification details" in output
    return ("non-breaking" if changed else "none"), [], result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--optic", type=Path, default=DEFAULT_OPTIC)
    args = parser.parse_args()
    rows = []
    for path in pair_files():
        pair = load_pair(path)
        ours = verdict(compare(pair.base, pair.head, pair.today))
        theirs, checks, code = optic_verdict(args.optic, pair.base, pair.head)
        rows.append({"pair": pair.name, "expected": pair.expected, "ours": ours, "optic": theirs, "optic_exit": code, "optic_checks": checks})
        print(f"{pair.name:45} expected={pair.expected:13} ours={ours:13} optic={theirs}", flush=True)
    (HERE / "oracle-verdicts.json").write_text(json.dumps({"tool": "@useoptic/optic 1.0.9 (optic diff --check, default breaking-change rules)",
                                                          "pairs": rows}, indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
