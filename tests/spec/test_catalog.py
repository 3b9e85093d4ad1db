"""The requirement catalog, spec/requirements.yaml: well formed, cited correctly, verified."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
import yaml

from apollospace_spec.bundle import bundled_spec
from apollospace_spec.catalog import load_catalog
from apollospace_spec.locate import spec_root
from apollospace_spec.model import iter_operations
from apollospace_spec.rules import RULES

ID_FORM = re.compile(
    r"^/req/(?P<klass>[a-z0-9]+(?:-[a-z0-9]+)*)/(?P<name>[a-z0-9]+(?:-[a-z0-9]+)*)$"
)
LEVELS = {"MUST", "SHOULD"}
METHODS = {"spec", "http"}
FIELDS = {"id", "level", "class", "statement", "source", "verified_by"}
OPTIONAL_FIELDS = {"withdrawn"}

# Requirements the catalog says the spec verifies but that no house rule declares yet.
# Each entry is a gap to close (a rule, or `verified_by` without `spec`), not a pass.
NO_RULE_YET: dict[str, str] = {}


def raw_catalog() -> dict[str, Any]:
    return yaml.safe_load((spec_root() / "requirements.yaml").read_text("utf-8"))


def entries() -> list[dict[str, Any]]:
    return list(raw_catalog()["requirements"])


def rules_declaring(requirement_id: str) -> list[str]:
    return [
        house_rule.id for house_rule in RULES.values() if requirement_id in house_rule.requirements
    ]


SPEC_VERIFIED = sorted(
    e["id"] for e in entries() if "spec" in (e.get("verified_by") or []) and not e.get("withdrawn")
)


def test_requirement_ids_are_unique() -> None:
    """No requirement id appears twice in requirements.yaml."""
    repeated = sorted(
        rid for rid, count in Counter(e["id"] for e in entries()).items() if count > 1
    )
    assert repeated == []


def test_every_entry_has_exactly_the_catalog_fields() -> None:
    """Every requirement has id, level, class, statement, source, verified_by and no other field."""
    wrong = {
        entry.get("id", repr(entry)): {
            "missing": sorted(FIELDS - set(entry)),
            "unknown": sorted(set(entry) - FIELDS - OPTIONAL_FIELDS),
        }
        for entry in entries()
        if not FIELDS <= set(entry) <= FIELDS | OPTIONAL_FIELDS
    }
    assert wrong == {}


def test_requirement_ids_are_of_the_form_req_class_name() -> None:
    """Every id is /req/<class>/<name> with a declared class, the same as the entry's `class`."""
    classes = raw_catalog()["classes"]
    wrong = []
    for entry in entries():
        match = ID_FORM.match(entry["id"])
        if not match or match["klass"] not in classes or match["klass"] != entry["class"]:
            wrong.append(entry["id"])
    assert wrong == []


def test_levels_are_must_or_should() -> None:
    """Every requirement is a MUST or a SHOULD."""
    assert {e["id"]: e["level"] for e in entries() if e["level"] not in LEVELS} == {}


def test_verified_by_is_spec_and_or_http() -> None:
    """Every requirement is verified by `spec`, `http` or both, and by nothing else."""
    wrong = {
        e["id"]: e["verified_by"]
        for e in entries()
        if not isinstance(e["verified_by"], list)
        or not e["verified_by"]
        or not set(e["verified_by"]) <= METHODS
    }
    assert wrong == {}


def test_statements_and_sources_are_written() -> None:
    """Every requirement has a non-empty statement and source."""
    empty = [
        e["id"]
        for e in entries()
        if not str(e.get("statement", "")).strip() or not str(e.get("source", "")).strip()
    ]
    assert empty == []


def test_every_cited_requirement_exists() -> None:
    """Every id an operation or event cites in x-apollospace-requirements is in the catalog."""
    catalog = load_catalog()
    unknown = [
        (op.location, requirement_id)
        for op in iter_operations(bundled_spec(), events=True)
        for requirement_id in op.requirement_ids
        if requirement_id not in catalog
    ]
    assert unknown == []


def test_rules_declare_only_spec_verified_requirements() -> None:
    """Every requirement a house rule declares exists and is marked `verified_by: spec`."""
    catalog = load_catalog()
    wrong = [
        (house_rule.id, requirement_id)
        for house_rule in RULES.values()
        for requirement_id in house_rule.requirements
        if requirement_id not in catalog or "spec" not in catalog[requirement_id].verified_by
    ]
    assert wrong == []


@pytest.mark.parametrize(
    "requirement_id",
    [
        pytest.param(rid, marks=pytest.mark.xfail(reason=NO_RULE_YET[rid], strict=True))
        if rid in NO_RULE_YET
        else rid
        for rid in SPEC_VERIFIED
    ],
)
def test_spec_verified_requirement_has_a_house_rule(requirement_id: str) -> None:
    """A requirement the catalog says the spec verifies is declared by at least one house rule."""
    assert rules_declaring(requirement_id), (
        f"{requirement_id} is verified_by spec but no @rule declares it"
    )


def test_known_gaps_are_spec_verified_requirements() -> None:
    """Every entry of NO_RULE_YET is a spec-verified requirement of the catalog."""
    assert set(NO_RULE_YET) <= set(SPEC_VERIFIED)
