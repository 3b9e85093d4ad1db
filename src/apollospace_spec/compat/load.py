"""Read one side of a comparison: a release name, a spec folder, a bundled file or a git ref."""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path
from typing import Any

import yaml

from apollospace_spec.bundle import BundleError, bundle
from apollospace_spec.locate import spec_root

_RELEASE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")


class CompatInputError(Exception):
    """A side that cannot be read; its message is one readable line."""


def releases_root(root: Path | None = None) -> Path:
    return (root or spec_root()) / "releases"


def release_versions(root: Path | None = None) -> list[str]:
    """Released versions (`1.0.0`, ...), oldest first."""
    folder = releases_root(root)
    found = [m.groups() for p in folder.glob("v*") if (p / "openapi.json").is_file() and (m := _RELEASE.match(p.name))]
    return [".".join(parts) for parts in sorted(found, key=lambda parts: tuple(map(int, parts)))]


def latest_release(root: Path | None = None) -> str | None:
    versions = release_versions(root)
    return versions[-1] if versions else None


def load_document(source: str | None, *, repo: Path | None = None) -> tuple[dict[str, Any], str]:
    """The bundled document `source` names, and a label for it.

    `source`: None or `current` (the working spec), `baseline` (the latest
    release), a release (`v1.0.0`), a folder holding openapi.yaml, an
    openapi.json/.yaml file, or a git ref (`main`, `HEAD~1`, `git:v1.0.0`).
    """
    if source in (None, "", "current"):
        return _bundle(spec_root()), "current spec"
    assert source is not None
    if source == "baseline":
        latest = latest_release()
        if latest is None:
            raise CompatInputError(f"no release under {releases_root()}: cut one with `make release VERSION=1.0.0`")
        source = f"v{latest}"
    if _RELEASE.match(source) and not source.startswith("git:"):
        path = releases_root() / f"v{source.lstrip('v')}" / "openapi.json"
        if path.is_file():
            return _read_file(path), f"release v{source.lstrip('v')}"
    path = Path(source)
    if not source.startswith("git:") and path.exists():
        if path.is_dir():
            if not (path / "openapi.yaml").is_file():
                raise CompatInputError(f"{path}: a folder without openapi.yaml")
            return _bundle(path), str(path)
        return _read_file(path), str(path)
    return _from_git(source.removeprefix("git:"), repo), f"git {source.removeprefix('git:')}"


def _bundle(root: Path) -> dict[str, Any]:
    try:
        return bundle(root)
    except BundleError as exc:
        raise CompatInputError(str(exc)) from exc


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text("utf-8")
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        raise CompatInputError(f"{path}: not a readable OpenAPI document ({type(exc).__name__})") from exc
    if not isinstance(document, dict) or "openapi" not in document:
        raise CompatInputError(f"{path}: not an OpenAPI document (no `openapi` key)")
    if path.suffix != ".json" and _has_file_refs(document):
        return _bundle(path.parent) if path.name == "openapi.yaml" else document
    return document


def _has_file_refs(node: Any) -> bool:
    if isinstance(node, dict):
        ref = node.get("$ref")
        return (isinstance(ref, str) and not ref.startswith("#")) or any(_has_file_refs(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_file_refs(v) for v in node)
    return False


def _from_git(ref: str, repo: Path | None) -> dict[str, Any]:
    """The spec/ folder of `ref`, extracted with `git archive` and bundled."""
    repo = repo or spec_root().parent
    relative = "spec"
    try:
        archive = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", ref, relative],
                                 capture_output=True, check=True, timeout=60).stdout
    except FileNotFoundError as exc:
        raise CompatInputError("git is not installed: compare with a file or a release instead") from exc
    except subprocess.CalledProcessError as exc:
        raise CompatInputError(f"{ref}: neither a release, a file nor a git ref with a spec/ folder") from exc
    folder = Path(tempfile.mkdtemp(prefix="apollospace-compat-"))
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return _bundle(folder / relative)
