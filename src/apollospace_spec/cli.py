"""`apollospace-spec`: lint, bundle, compare and release the Apollo Space v1 contract."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from apollospace_spec.bundle import BundleError, bundle
from apollospace_spec.compat.cli import add_commands as add_compat_commands
from apollospace_spec.locate import spec_root


def _lint(args: argparse.Namespace) -> int:
    # Imported here: the rules pull in the schema validators, which `compat` and `bundle` do not need.
    from apollospace_spec.lint import lint_tree
    from apollospace_spec.rules import RULES

    if args.list_rules:
        for house_rule in RULES.values():
            print(f"{house_rule.id:28} {house_rule.summary}")
        return 0
    violations = lint_tree(Path(args.spec) if args.spec else None)
    for violation in violations:
        print(violation)
    print(f"{len(RULES)} house rules, {len(violations)} violation(s)")
    return 1 if violations else 0


def _bundle(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    document = bundle(Path(args.spec) if args.spec else None)
    (out / "openapi.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    (out / "openapi.yaml").write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100), "utf-8")
    print(f"wrote {out / 'openapi.json'} and {out / 'openapi.yaml'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="apollospace-spec", description="Lint and bundle the Apollo Space v1 OpenAPI contract.")
    parser.add_argument("--spec", help=f"folder holding openapi.yaml (default: {spec_root()})")
    commands = parser.add_subparsers(dest="command", required=True)
    lint = commands.add_parser("lint", help="validate the document and check every house rule")
    lint.add_argument("--list-rules", action="store_true", help="print the house rules and exit")
    lint.set_defaults(run=_lint)
    bundler = commands.add_parser("bundle", help="write one self-contained openapi.json and openapi.yaml")
    bundler.add_argument("--out", default="build", help="output folder (default: build)")
    bundler.set_defaults(run=_bundle)
    add_compat_commands(commands)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except BundleError as exc:
        print(f"apollospace-spec: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
