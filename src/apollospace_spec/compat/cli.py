"""The `compat` and `release` subcommands of `apollospace-spec`.

Exit codes of `compat`: 0 when /v1 is kept, 1 when a change breaks it,
2 on bad input (one readable line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from apollospace_spec.compat.diff import compare
from apollospace_spec.compat.load import CompatInputError, load_document
from apollospace_spec.compat.release import cut_release
from apollospace_spec.compat.report import changelog, terminal_lines


def add_commands(commands: Any) -> None:
    gate = commands.add_parser("compat", help="classify every change against the released baseline; exit 1 when /v1 breaks")
    gate.add_argument("--base", default="baseline",
                      help="the contract to keep: 'baseline' (the latest release, default), a release (v1.0.0), a git ref (main, HEAD~1), a folder or a file")
    gate.add_argument("--head", default="current", help="the candidate: 'current' (the working spec, default), or any of the --base forms")
    gate.add_argument("--today", type=_date, help="judge sunset dates on this day (YYYY-MM-DD; default: today, UTC)")
    gate.add_argument("--changelog", metavar="FILE", help="also write the Markdown changelog between the two versions to FILE")
    gate.add_argument("--quiet", action="store_true", help="print only the breaking changes and the verdict")
    gate.set_defaults(run=_compat)
    release = commands.add_parser("release", help="freeze the current spec as spec/releases/v<VERSION>/ and set info.version")
    release.add_argument("version", help="the new version, like 1.1.0 (a breaking release must bump the major)")
    release.add_argument("--force", action="store_true", help="overwrite an existing release (re-freezing a baseline)")
    release.set_defaults(run=_release)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-12-01") from exc


def _compat(args: argparse.Namespace) -> int:
    try:
        base, base_label = load_document(args.base)
        head, head_label = load_document(args.head)
        changes = compare(base, head, args.today)
    except CompatInputError as exc:
        print(f"apollospace-spec compat: {exc}", file=sys.stderr)
        return 2
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a document too malformed to walk
        print(f"apollospace-spec compat: cannot compare these documents ({type(exc).__name__}: {exc}); run `apollospace-spec lint`", file=sys.stderr)
        return 2
    lines = terminal_lines(changes, base_label, head_label)
    if args.quiet:
        lines = [line for line in lines if line.startswith("  BREAKING") or line.startswith("/v1")]
    print("\n".join(lines))
    if args.changelog:
        version = lambda doc, label: str((doc.get("info") or {}).get("version") or label)  # noqa: E731
        path = Path(args.changelog)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(changelog(changes, version(base, base_label), version(head, head_label)), "utf-8")
        print(f"wrote {path}")
    return 1 if any(change.breaking for change in changes) else 0


def _release(args: argparse.Namespace) -> int:
    try:
        released = cut_release(args.version, root=Path(args.spec) if args.spec else None, force=args.force)
    except CompatInputError as exc:
        print(f"apollospace-spec release: {exc}", file=sys.stderr)
        return 2 if "breaks" not in str(exc) else 1
    since = f"since v{released.previous}: {released.breaking} breaking, {released.total} change(s)" if released.previous else "the first release"
    print(f"wrote {released.folder}/openapi.json and CHANGELOG.md ({since}); info.version follows it")
    return 0
