"""The bundler turns the file-per-path source tree into one self-contained document."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from apollospace_spec.bundle import (
    COMPONENT_KINDS,
    bundle,
    bundle_with_files,
    bundled_spec,
    spec_sha256,
)
from apollospace_spec.locate import spec_root
from apollospace_spec.model import resolve, walk

CliRunner = Callable[..., subprocess.CompletedProcess[str]]  # the `run_cli` fixture of conftest.py
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def all_refs(document: dict[str, Any]) -> list[tuple[str, str]]:
    """Every `$ref` of the document with the JSON pointer of the object holding it."""
    return [
        (pointer, node["$ref"])
        for pointer, node in walk(document)
        if isinstance(node, dict) and isinstance(node.get("$ref"), str)
    ]


def source_components(root: Path) -> dict[tuple[str, str], Path]:
    """(kind, name) of every component file under `root/components`."""
    return {
        (path.parent.name, path.stem): path
        for kind in COMPONENT_KINDS
        for path in sorted((root / "components" / kind).glob("*.yaml"))
    }


def as_bundled(node: Any, base: Path, root: Path) -> Any:
    """A component file's content with its file `$ref`s written as the bundler should write them."""
    if isinstance(node, list):
        return [as_bundled(item, base, root) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and not ref.startswith("#"):
        target = (base / ref).resolve().relative_to(root.resolve() / "components")
        assert len(target.parts) == 2 and target.suffix == ".yaml", f"{ref} is not a component file"
        siblings = {
            key: as_bundled(value, base, root) for key, value in node.items() if key != "$ref"
        }
        return {"$ref": f"#/components/{target.parts[0]}/{target.stem}", **siblings}
    return {key: as_bundled(value, base, root) for key, value in node.items()}


def test_bundle_has_no_external_ref() -> None:
    """Every `$ref` left in the bundle is local: no file reference survives bundling."""
    external = [(pointer, ref) for pointer, ref in all_refs(bundle()) if not ref.startswith("#/")]
    assert external == []


def test_every_local_ref_resolves() -> None:
    """Every local `$ref` of the bundle points at an object of the bundle."""
    document = bundle()
    dangling = []
    for pointer, ref in all_refs(document):
        try:
            resolve(document, {"$ref": ref})
        except (KeyError, IndexError, TypeError):
            dangling.append((pointer, ref))
    assert dangling == []


def test_bundle_is_deterministic() -> None:
    """Two bundles of the same tree are identical, key order included."""
    first, second = bundle(), bundle()
    assert json.dumps(first) == json.dumps(second)
    assert json.dumps(bundled_spec()) == json.dumps(first)


def test_bundle_does_not_depend_on_where_the_tree_lives(spec_copy: Path) -> None:
    """A copy of the tree in another folder bundles to the same document and fingerprint."""
    assert json.dumps(bundle(spec_copy)) == json.dumps(bundle())
    assert spec_sha256(spec_copy) == spec_sha256()


def test_bundled_spec_is_a_fresh_copy() -> None:
    """Changing a document returned by bundled_spec does not change the next one."""
    document = bundled_spec()
    document["info"]["title"] = "changed by a test"
    assert bundled_spec()["info"]["title"] != "changed by a test"


def test_every_component_file_becomes_exactly_one_component() -> None:
    """Each file components/<kind>/<Name>.yaml is the component #/components/<kind>/<Name>."""
    root = spec_root()
    files = source_components(root)
    document = bundle()
    components = document["components"]
    inline = yaml.safe_load((root / "openapi.yaml").read_text("utf-8")).get("components") or {}
    bundled = {
        (kind, name)
        for kind, members in components.items()
        if kind in COMPONENT_KINDS
        for name in members
        if name not in (inline.get(kind) or {})
    }
    assert bundled == set(files)
    for (kind, name), path in files.items():
        expected = as_bundled(yaml.safe_load(path.read_text("utf-8")), path.parent, root)
        assert components[kind][name] == expected, f"{path} and #/components/{kind}/{name} differ"


def test_bundle_reads_every_component_file() -> None:
    """The files a bundle was built from include every component file of the tree."""
    _, files = bundle_with_files()
    unread = {
        path for path in source_components(spec_root()).values() if path.resolve() not in files
    }
    assert unread == set()


def test_spec_sha256_is_the_stable_fingerprint_of_the_bundle() -> None:
    """spec_sha256 is the SHA-256 of the canonical JSON of the bundle, the same on every call."""
    canonical = json.dumps(bundle(), sort_keys=True, separators=(",", ":"))
    fingerprint = spec_sha256()
    assert SHA256_HEX.match(fingerprint)
    assert fingerprint == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert spec_sha256() == fingerprint


def test_spec_sha256_changes_with_the_spec(spec_copy: Path) -> None:
    """Changing one word of one component file changes the fingerprint."""
    path = spec_copy / "components" / "schemas" / "Uuid.yaml"
    path.write_text(path.read_text("utf-8").replace("A version 4 UUID.", "A v4 UUID."), "utf-8")
    assert spec_sha256(spec_copy) != spec_sha256()


def test_cli_bundle_writes_json_and_yaml_of_the_same_document(
    tmp_path: Path, run_cli: CliRunner
) -> None:
    """`apollospace-spec bundle --out` writes an openapi.json and openapi.yaml of the bundle."""
    out = tmp_path / "build"
    result = run_cli("--spec", spec_root(), "bundle", "--out", out)
    assert result.returncode == 0, result.stderr
    from_json = json.loads((out / "openapi.json").read_text("utf-8"))
    from_yaml = yaml.safe_load((out / "openapi.yaml").read_text("utf-8"))
    assert from_json == from_yaml
    assert from_json == bundle()


def test_lint_of_a_tree_with_a_missing_ref_file_is_one_clear_line(
    spec_copy: Path, run_cli: CliRunner
) -> None:
    """A `$ref` to a missing file fails the lint with one line naming it, and no traceback."""
    lead = spec_copy / "components" / "schemas" / "Lead.yaml"
    lead.write_text(
        lead.read_text("utf-8").replace("$ref: ./Uuid.yaml", "$ref: ./Uid.yaml"), "utf-8"
    )
    result = run_cli("--spec", spec_copy, "lint")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in output
    violation_lines = [
        line for line in result.stdout.splitlines() if not re.match(r"^\d+ house rules", line)
    ]
    assert len(violation_lines) == 1, output
    assert "Uid.yaml" in violation_lines[0] and "missing file" in violation_lines[0]


def test_lint_of_a_tree_with_a_dangling_local_ref_is_one_clear_line(
    spec_copy: Path, run_cli: CliRunner
) -> None:
    """A local `$ref` to a missing component fails the lint with one line, and no traceback."""
    path = spec_copy / "paths" / "leads_{lead_id}.yaml"
    text = path.read_text("utf-8")
    assert "$ref: ../components/responses/NotFound.yaml" in text
    path.write_text(
        text.replace(
            "$ref: ../components/responses/NotFound.yaml",
            '$ref: "#/components/responses/NotFoud"',
            1,
        ),
        "utf-8",
    )
    result = run_cli("--spec", spec_copy, "lint")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in output
    violation_lines = [
        line for line in result.stdout.splitlines() if not re.match(r"^\d+ house rules", line)
    ]
    assert violation_lines == [
        "openapi-valid: #/paths/~1leads~1{lead_id}/get/responses/404:"
        " unresolvable $ref #/components/responses/NotFoud"
    ], output


def test_cli_bundle_of_a_tree_with_a_missing_ref_file_fails_cleanly(
    spec_copy: Path, tmp_path: Path, run_cli: CliRunner
) -> None:
    """`apollospace-spec bundle` of a tree with a dangling file `$ref` fails with one line."""
    lead = spec_copy / "components" / "schemas" / "Lead.yaml"
    lead.write_text(
        lead.read_text("utf-8").replace("$ref: ./Uuid.yaml", "$ref: ./Uid.yaml"), "utf-8"
    )
    result = run_cli("--spec", spec_copy, "bundle", "--out", tmp_path / "build")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Uid.yaml" in result.stderr
