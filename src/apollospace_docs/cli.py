"""`apollospace-docs`: render the API docs from the spec, refresh or check the golden copies."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from apollospace_docs.preview import render_preview
from apollospace_docs.render import PREVIEW, golden_files, render_site, write_site
from apollospace_docs.view_model import site_from_spec

DEFAULT_OUT = Path("build/docs")
DEFAULT_GOLDEN = Path("tests/docs/golden")


def _build(out: Path, *, preview: bool) -> int:
    site = site_from_spec()
    files = render_site(site)
    written = write_site(out, files)
    pages = len(site.pages)
    message = (
        f"{pages} pages ({len(site.endpoints)} operations, {len(site.events)} events, the index"
        f" and {pages - len(site.endpoints) - len(site.events) - 1} guides): "
    )
    message += f"{len(written)} files in {out}"
    if preview:
        html = render_preview(site, files)
        write_site(out, html)
        message += f", preview in {out / PREVIEW}/index.html"
    print(message)
    return 0


def _golden(golden: Path) -> int:
    files = golden_files(render_site(site_from_spec()))
    if golden.is_dir():
        for stale in sorted(p for p in golden.rglob("*") if p.is_file()):
            stale.unlink()
    write_site(golden, files)
    print(f"{len(files)} golden files refreshed in {golden}")
    return 0


def _check(golden: Path) -> int:
    files = golden_files(render_site(site_from_spec()))
    expected = {
        str(p.relative_to(golden)): p.read_text("utf-8") for p in golden.rglob("*") if p.is_file()
    }
    problems = sorted(
        [f"missing from the golden copies: {name}" for name in files.keys() - expected.keys()]
        + [f"golden copy no longer generated: {name}" for name in expected.keys() - files.keys()]
        + [
            f"differs: {name}"
            for name in files.keys() & expected.keys()
            if files[name] != expected[name]
        ]
    )
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(
            "the docs drifted from the golden copies; `make docs-golden` if intended",
            file=sys.stderr,
        )
        return 1
    print(f"{len(files)} files match the golden copies in {golden}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="apollospace-docs", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="render the docs and the HTML preview")
    build.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (default: build/docs)"
    )
    build.add_argument("--no-preview", action="store_true", help="skip the HTML preview")
    golden = commands.add_parser("golden", help="rewrite the golden copies from the spec")
    golden.add_argument("--golden", type=Path, default=DEFAULT_GOLDEN)
    check = commands.add_parser("check", help="compare the rendered docs with the golden copies")
    check.add_argument("--golden", type=Path, default=DEFAULT_GOLDEN)
    args = parser.parse_args(argv)
    if args.command == "build":
        return _build(args.out, preview=not args.no_preview)
    if args.command == "golden":
        return _golden(args.golden)
    return _check(args.golden)


if __name__ == "__main__":
    raise SystemExit(main())
