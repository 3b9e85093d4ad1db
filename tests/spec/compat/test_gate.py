"""The gate on the real spec: clean against the baseline, a removed response field fails it, bad input exits 2.

Also the release command, git refs as a side, file-layout refactors of the
real tree (no change), and the Markdown changelog.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from apollospace_spec.compat import compare, load_document
from apollospace_spec.compat.load import latest_release, releases_root
from tests.spec.conftest import CliRunner


def _remove_line(path: Path, pattern: str) -> None:
    text = path.read_text("utf-8")
    changed = re.sub(pattern, "", text, count=1, flags=re.MULTILINE)
    assert changed != text, f"{pattern} not in {path}"
    path.write_text(changed, "utf-8")


def test_the_spec_keeps_the_released_baseline(run_cli: CliRunner) -> None:
    """`make compat` on main: the current spec against the latest release exits 0 with no breaking change."""
    assert latest_release() is not None, f"no release under {releases_root()}"
    result = run_cli("compat")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    assert "/v1 kept: 0 breaking" in result.stdout


def test_the_baseline_is_the_bundled_v1_and_info_version_follows_it() -> None:
    """The frozen v1.0.0 is a bundled document (no file $ref) whose info.version is its name; the spec is at least that version."""
    released = json.loads((releases_root() / "v1.0.0" / "openapi.json").read_text("utf-8"))
    assert released["info"]["version"] == "1.0.0"
    assert '"$ref": "../' not in json.dumps(released) and '.yaml"' not in json.dumps(released)
    current = yaml.safe_load((releases_root().parent / "openapi.yaml").read_text("utf-8"))["info"]["version"]
    assert tuple(map(int, current.split("."))) >= (1, 0, 0)


def test_removing_a_response_field_fails_the_gate_with_a_line_naming_it(spec_copy: Path, run_cli: CliRunner) -> None:
    """Dropping `Lead.website` makes compat exit 1, with a BREAKING line naming getLead, the field's pointer and the promise."""
    schema = spec_copy / "components" / "schemas" / "Lead.yaml"
    text = schema.read_text("utf-8")
    text = re.sub(r"^  website:\n(    .*\n)+", "", text, count=1, flags=re.MULTILINE).replace(" website,", "")
    schema.write_text(text, "utf-8")
    result = run_cli("compat", "--base", "v1.0.0", "--head", spec_copy)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("  BREAKING getLead ")]
    named = [line for line in lines if "/responses/200/content/application~1json/schema/properties/website" in line]
    assert named and "response field 'website' removed" in named[0], result.stdout[-3000:]
    assert "[breaks: a response stays within what /v1 documented" in named[0]
    assert result.stdout.rstrip().splitlines()[-1].startswith("/v1 BROKEN:")


def test_bad_input_exits_2_with_one_readable_line(tmp_path: Path, run_cli: CliRunner) -> None:
    """A side that is neither a release, a file nor a git ref, or a file that is not OpenAPI: exit 2, one line, no traceback."""
    not_openapi = tmp_path / "notes.json"
    not_openapi.write_text('{"hello": 1}', "utf-8")
    for side in ("no-such-ref-or-file", str(not_openapi)):
        result = run_cli("compat", "--base", side)
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.startswith("apollospace-spec compat: ")


def test_a_git_ref_is_a_side() -> None:
    """`--base HEAD` reads spec/ as committed and bundles it."""
    document, label = load_document("HEAD")
    assert label == "git HEAD" and document["openapi"].startswith("3.1")


def test_a_file_layout_refactor_of_the_real_spec_is_no_change(spec_copy: Path) -> None:
    """Renaming the Tag component file (every $ref follows) and inlining the Limit parameter change nothing on the wire."""
    (spec_copy / "components" / "schemas" / "Tag.yaml").rename(spec_copy / "components" / "schemas" / "LeadTag.yaml")
    for path in spec_copy.rglob("*.yaml"):
        text = path.read_text("utf-8")
        if "Tag.yaml" in text:
            path.write_text(text.replace("/Tag.yaml", "/LeadTag.yaml"), "utf-8")
    leads = spec_copy / "paths" / "leads.yaml"
    limit = (spec_copy / "components" / "parameters" / "Limit.yaml").read_text("utf-8")
    inline = "    - " + limit.replace("$ref: ../schemas/", "$ref: ../components/schemas/").rstrip("\n").replace("\n", "\n      ") + "\n"
    text = leads.read_text("utf-8")
    leads.write_text(text.replace("    - $ref: ../components/parameters/Limit.yaml\n", inline, 1), "utf-8")
    before, _ = load_document(None)
    after, _ = load_document(str(spec_copy))
    assert after["components"]["schemas"].get("LeadTag") and "Tag" not in after["components"]["schemas"]
    changes = compare(before, after)
    assert changes == [], "\n".join(c.line() for c in changes)


def test_the_changelog_lists_breaking_deprecations_and_additions(tmp_path: Path, spec_copy: Path, run_cli: CliRunner) -> None:
    """`--changelog FILE` writes Markdown with a section per kind of change and each operation named."""
    path_file = spec_copy / "paths" / "leads_{lead_id}.yaml"
    text = path_file.read_text("utf-8")
    path_file.write_text(text.replace("  operationId: getLead\n", "  operationId: getLead\n  deprecated: true\n"
                                      "  x-apollospace-deprecation: {announced: \"2026-12-01\", sunset: \"2027-06-01\"}\n", 1), "utf-8")
    _remove_line(spec_copy / "components" / "schemas" / "Lead.yaml", r"^    maxLength: 200\n")
    out = tmp_path / "CHANGELOG.md"
    result = run_cli("compat", "--base", "v1.0.0", "--head", spec_copy, "--changelog", out)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr
    markdown = out.read_text("utf-8")
    assert markdown.startswith("# Changelog: 1.0.0 → 1.0.0")
    assert "## Breaking changes" in markdown and "maxLength 200 -> (none)" in markdown
    assert "## Deprecations" in markdown and "`getLead (GET /leads/{lead_id})`: operation deprecated (announced 2026-12-01, sunset 2027-06-01)" in markdown


def test_release_freezes_refuses_a_breaking_minor_and_sets_info_version(spec_copy: Path, run_cli: CliRunner) -> None:
    """A compatible 1.1.0 is cut (bundle, changelog, info.version); a breaking 1.2.0 is refused (exit 1); 2.0.0 is allowed."""
    _remove_line(spec_copy / "components" / "schemas" / "Tag.yaml", r"^maxLength: 50\n")  # request and response: breaks responses
    lead_create = spec_copy / "components" / "schemas" / "LeadCreate.yaml"
    assert lead_create.is_file()
    first = run_cli("--spec", spec_copy, "release", "1.0.0")
    assert first.returncode == 2 and "exists" in first.stderr, first.stderr
    refused = run_cli("--spec", spec_copy, "release", "1.2.0")
    assert refused.returncode == 1 and "breaks v1.0.0" in refused.stderr, refused.stdout + refused.stderr
    assert not (spec_copy / "releases" / "v1.2.0").exists()
    major = run_cli("--spec", spec_copy, "release", "2.0.0")
    assert major.returncode == 0, major.stdout + major.stderr
    assert json.loads((spec_copy / "releases" / "v2.0.0" / "openapi.json").read_text("utf-8"))["info"]["version"] == "2.0.0"
    assert "## Breaking changes" in (spec_copy / "releases" / "v2.0.0" / "CHANGELOG.md").read_text("utf-8")
    assert yaml.safe_load((spec_copy / "openapi.yaml").read_text("utf-8"))["info"]["version"] == "2.0.0"
