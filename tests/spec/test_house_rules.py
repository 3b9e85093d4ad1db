"""Every house rule can fail: a broken spec per rule, each caught by exactly that rule.

Each `fixtures/<rule-id>.yaml` holds a one-sentence `description` of a realistic
mistake and a `patch` of RFC 6902 operations that makes it in the bundled
document. Applying the patch to the real spec must make exactly that rule, and
no other, report a violation.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonpatch
import pytest
import yaml

from apollospace_spec.bundle import bundled_spec
from apollospace_spec.lint import context_for, lint_tree
from apollospace_spec.rules import RULES, Violation, run_rules

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_FILES = sorted(FIXTURES.glob("*.yaml"))
PATCH_OPS = {"add", "remove", "replace", "move", "copy", "test"}
RULE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def load_fixture(path: Path) -> dict[str, Any]:
    """The fixture at `path`, checked for shape: a one-sentence description and a patch."""
    fixture = yaml.safe_load(path.read_text("utf-8"))
    assert isinstance(fixture, dict) and set(fixture) == {"description", "patch"}, (
        f"{path.name}: a fixture has exactly `description` and `patch`"
    )
    description = fixture["description"]
    assert isinstance(description, str) and "\n" not in description.strip(), (
        f"{path.name}: description is one line"
    )
    assert description.endswith(".") and ". " not in description, (
        f"{path.name}: description is one sentence ending in a period"
    )
    patch = fixture["patch"]
    assert isinstance(patch, list) and patch, f"{path.name}: patch is a non-empty list"
    for operation in patch:
        assert isinstance(operation, dict) and operation.get("op") in PATCH_OPS, (
            f"{path.name}: {operation!r} is not an RFC 6902 operation"
        )
    assert any(operation["op"] != "test" for operation in patch), (
        f"{path.name}: patch changes nothing"
    )
    return fixture


def violations_of(document: dict[str, Any]) -> list[Violation]:
    return run_rules(context_for(document))


def broken_document(fixture: dict[str, Any]) -> dict[str, Any]:
    """The bundled real spec with the fixture's patch applied (a `test` op that fails raises)."""
    return jsonpatch.apply_patch(bundled_spec(), fixture["patch"])


def test_the_real_spec_has_no_violation() -> None:
    """The bundled real spec passes every house rule."""
    violations = violations_of(bundled_spec())
    assert violations == [], "\n".join(map(str, violations))


def test_the_real_source_tree_has_no_violation() -> None:
    """Linting the source tree, unreferenced-file check included, reports nothing."""
    violations = lint_tree()
    assert violations == [], "\n".join(map(str, violations))


def test_every_rule_has_a_fixture() -> None:
    """Every registered rule has a fixtures/<rule-id>.yaml that breaks it."""
    missing = sorted(set(RULES) - {path.stem for path in FIXTURE_FILES})
    assert missing == [], f"rules without a fixture in {FIXTURES}: {missing}"


def test_every_fixture_names_a_registered_rule() -> None:
    """Every fixture file is named after a registered rule."""
    unknown = sorted({path.stem for path in FIXTURE_FILES} - set(RULES))
    assert unknown == [], f"fixtures named after no registered rule: {unknown}"


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_summary_is_one_clean_line(rule_id: str) -> None:
    """Each rule has a kebab-case id and a summary written like a docstring's first line."""
    summary = RULES[rule_id].summary
    assert RULE_ID.match(rule_id), f"{rule_id} is not kebab-case"
    assert summary == summary.strip() and "\n" not in summary, f"{rule_id}: summary is one line"
    assert summary[:1].isupper(), f"{rule_id}: summary starts with a capital"
    assert summary.endswith("."), f"{rule_id}: summary ends with a period"
    assert 20 <= len(summary) <= 100, f"{rule_id}: summary is 20 to 100 characters"


@pytest.mark.parametrize("fixture_path", FIXTURE_FILES, ids=[path.stem for path in FIXTURE_FILES])
def test_fixture_is_caught_by_exactly_its_rule(fixture_path: Path) -> None:
    """The fixture's broken spec makes exactly the rule it is named after report violations."""
    fixture = load_fixture(fixture_path)
    violations = violations_of(broken_document(fixture))
    fired = {violation.rule for violation in violations}
    report = "\n".join(map(str, violations)) or "(no violation)"
    assert fired == {fixture_path.stem}, f"{fixture['description']}\n{report}"


def test_a_dangling_local_ref_in_a_schema_is_caught_by_openapi_valid_alone() -> None:
    """A dangling local `$ref` where the validator never looks is caught by openapi-valid alone."""
    patch = [
        {
            "op": "replace",
            "path": "/paths/~1leads~1{lead_id}/get/responses/200/content"
            "/application~1json/schema/$ref",
            "value": "#/components/schemas/Leed",
        }
    ]
    violations = violations_of(jsonpatch.apply_patch(bundled_spec(), patch))
    assert [(v.rule, v.message) for v in violations] == [
        ("openapi-valid", "unresolvable $ref #/components/schemas/Leed")
    ], "\n".join(map(str, violations))


def test_an_unreferenced_component_file_is_reported(spec_copy: Path) -> None:
    """A component file that nothing references is reported by no-unused-components alone."""
    orphan = spec_copy / "components" / "schemas" / "LeadPreview.yaml"
    orphan.write_text(
        "type: object\n"
        "description: The lead of the 0.1.0-preview, left behind after the migration.\n"
        "additionalProperties: false\n"
        "properties:\n"
        "  stage:\n"
        "    type: string\n",
        "utf-8",
    )
    violations = lint_tree(spec_copy)
    assert [(v.rule, v.location) for v in violations] == [
        ("no-unused-components", "components/schemas/LeadPreview.yaml")
    ], "\n".join(map(str, violations))


def test_a_path_file_missing_from_openapi_yaml_is_reported(spec_copy: Path) -> None:
    """A path file that openapi.yaml does not list is reported by no-unused-components alone."""
    written = spec_copy / "paths" / "leads_{lead_id}_notes.yaml"
    written.write_text(
        (spec_copy / "paths" / "leads_{lead_id}_activities.yaml").read_text("utf-8"), "utf-8"
    )
    violations = lint_tree(spec_copy)
    assert [(v.rule, v.location) for v in violations] == [
        ("no-unused-components", "paths/leads_{lead_id}_notes.yaml")
    ], "\n".join(map(str, violations))
