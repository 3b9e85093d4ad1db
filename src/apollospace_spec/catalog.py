"""The requirement catalog, `spec/requirements.yaml`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from apollospace_spec.locate import spec_root


@dataclass(frozen=True)
class Requirement:
    id: str
    level: str
    klass: str
    statement: str
    source: str
    verified_by: tuple[str, ...]

    @property
    def is_must(self) -> bool:
        return self.level == "MUST"


@dataclass(frozen=True)
class RequirementCatalog:
    classes: dict[str, str]
    requirements: dict[str, Requirement] = field(default_factory=dict)

    def __contains__(self, requirement_id: object) -> bool:
        return requirement_id in self.requirements

    def __getitem__(self, requirement_id: str) -> Requirement:
        return self.requirements[requirement_id]

    def in_class(self, klass: str) -> list[Requirement]:
        return [r for r in self.requirements.values() if r.klass == klass]

    def verified_by(self, method: str) -> list[Requirement]:
        return [r for r in self.requirements.values() if method in r.verified_by]


def load_catalog(root: Path | None = None) -> RequirementCatalog:
    raw = yaml.safe_load(((root or spec_root()) / "requirements.yaml").read_text("utf-8"))
    requirements = {}
    for entry in raw["requirements"]:
        requirements[entry["id"]] = Requirement(
            id=entry["id"],
            level=entry["level"],
            klass=entry["class"],
            statement=entry["statement"],
            source=entry["source"],
            verified_by=tuple(entry["verified_by"]),
        )
    return RequirementCatalog(classes=dict(raw["classes"]), requirements=requirements)
