"""Build a lint context from the source tree and run the house rules."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from apollospace_spec.bundle import BundleError, bundle_with_files
from apollospace_spec.catalog import load_catalog
from apollospace_spec.locate import spec_root
from apollospace_spec.rules import LintContext, Violation, run_rules

_EXTENSION_HEADING = re.compile(r"^###\s+(x-[a-z0-9-]+)\s*$", re.MULTILINE)


def documented_extensions(root: Path) -> set[str]:
    path = root / "EXTENSIONS.md"
    return set(_EXTENSION_HEADING.findall(path.read_text("utf-8"))) if path.is_file() else set()


def context_for(document: dict[str, Any], root: Path | None = None, source_files: set[Path] | None = None) -> LintContext:
    root = root or spec_root()
    return LintContext(
        document=document,
        catalog=load_catalog(root),
        source_root=root if source_files is not None else None,
        source_files=source_files or set(),
        documented_extensions=documented_extensions(root),
    )


def lint_tree(root: Path | None = None) -> list[Violation]:
    """Bundle the source tree at `root` and run every house rule on it."""
    root = root or spec_root()
    try:
        document, files = bundle_with_files(root)
    except BundleError as exc:
        return [Violation("bundle", str(root), str(exc))]
    return run_rules(context_for(document, root, files))
