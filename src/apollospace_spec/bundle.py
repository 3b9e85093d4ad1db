"""Bundle the file-per-path, component-per-file spec into one document.

A `$ref` to `components/<kind>/<Name>.yaml` becomes `#/components/<kind>/<Name>`
and the file becomes that component; any other file `$ref` (paths, webhooks) is
inlined. Local refs (`#/...`) are kept as they are.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from apollospace_spec.locate import spec_root

COMPONENT_KINDS = ("schemas", "parameters", "responses", "headers", "requestBodies", "examples")


class BundleError(Exception):
    """The spec cannot be bundled: a missing file, a bad YAML or a dangling `$ref`."""


@functools.cache
def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError as exc:
        raise BundleError(f"$ref to a missing file: {path}") from exc
    except yaml.YAMLError as exc:
        raise BundleError(f"{path}: not valid YAML: {exc}") from exc


class _Bundler:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.components: dict[str, dict[str, Any]] = {}
        self.component_files: dict[Path, tuple[str, str]] = {}
        self.files_read: set[Path] = set()

    def component_of(self, path: Path) -> tuple[str, str] | None:
        try:
            relative = path.relative_to(self.root / "components")
        except ValueError:
            return None
        if len(relative.parts) == 2 and relative.parts[0] in COMPONENT_KINDS:
            return relative.parts[0], relative.stem
        return None

    def load(self, path: Path) -> Any:
        path = path.resolve()
        self.files_read.add(path)
        return self.resolve(copy.deepcopy(_read_yaml(path)), path)

    def resolve(self, node: Any, source: Path) -> Any:
        if isinstance(node, list):
            return [self.resolve(item, source) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            siblings = {k: self.resolve(v, source) for k, v in node.items() if k != "$ref"}
            return self.resolve_file_ref(ref, source, siblings)
        return {key: self.resolve(value, source) for key, value in node.items()}

    def resolve_file_ref(self, ref: str, source: Path, siblings: dict[str, Any]) -> Any:
        file_part, _, fragment = ref.partition("#")
        if fragment:
            raise BundleError(f"{source}: file $ref with a fragment is not supported: {ref}")
        target = (source.parent / file_part).resolve()
        if not target.is_file():
            raise BundleError(f"{source}: $ref {ref} points to a missing file")
        component = self.component_of(target)
        if component is None:
            inlined = self.load(target)
            if siblings and isinstance(inlined, dict):
                inlined = {**inlined, **siblings}
            return inlined
        kind, name = component
        if target not in self.component_files:
            self.component_files[target] = component
            self.components.setdefault(kind, {})[name] = None  # guards recursion
            self.components[kind][name] = self.load(target)
        return {"$ref": f"#/components/{kind}/{name}", **siblings}


def bundle(root: Path | None = None) -> dict[str, Any]:
    """The whole spec as one self-contained document (a fresh copy)."""
    document, _ = bundle_with_files(root)
    return document


def bundle_with_files(root: Path | None = None) -> tuple[dict[str, Any], set[Path]]:
    """The bundled document and the set of source files it was built from."""
    bundler = _Bundler(root or spec_root())
    document = bundler.load(bundler.root / "openapi.yaml")
    components = document.setdefault("components", {})
    for kind in sorted(bundler.components):
        merged = dict(components.get(kind, {}))
        merged.update(sorted(bundler.components[kind].items()))
        components[kind] = merged
    return document, bundler.files_read


@functools.cache
def _cached_bundle(root: Path) -> str:
    return json.dumps(bundle(root), sort_keys=False)


def bundled_spec(root: Path | None = None) -> dict[str, Any]:
    """The bundled document, built once per process (a fresh copy each call)."""
    return json.loads(_cached_bundle((root or spec_root()).resolve()))


def spec_sha256(root: Path | None = None) -> str:
    """SHA-256 of the canonical JSON of the bundled document: the spec's fingerprint."""
    canonical = json.dumps(bundled_spec(root), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
