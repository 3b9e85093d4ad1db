"""The rule registry and the objects rules receive and return."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apollospace_spec.catalog import RequirementCatalog
from apollospace_spec.model import Operation, iter_operations


@dataclass(frozen=True)
class Violation:
    rule: str
    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.location}: {self.message}"


@dataclass
class LintContext:
    """What a rule may look at: the bundled document and where it came from."""

    document: dict[str, Any]
    catalog: RequirementCatalog
    source_root: Path | None = None
    source_files: set[Path] = field(default_factory=set)
    documented_extensions: set[str] = field(default_factory=set)

    def operations(self, *, events: bool = False) -> list[Operation]:
        return list(iter_operations(self.document, events=events))


RuleFunction = Callable[[LintContext], Iterable[Violation]]


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str
    requirements: tuple[str, ...]
    check: RuleFunction


RULES: dict[str, Rule] = {}


def rule(rule_id: str, summary: str, *requirements: str) -> Callable[[RuleFunction], RuleFunction]:
    """Register a house rule; `requirements` are the catalog IDs it verifies on the document."""

    def register(function: RuleFunction) -> RuleFunction:
        if rule_id in RULES:
            raise ValueError(f"duplicate rule id {rule_id}")
        RULES[rule_id] = Rule(rule_id, summary, requirements, function)
        return function

    return register


def run_rules(context: LintContext, only: Iterable[str] | None = None) -> list[Violation]:
    """Every violation of the selected rules (all of them by default).

    Rules may assume a structurally valid document: on one that `openapi-valid`
    rejects (a dangling local `$ref`, a parameter without `name`, ...), a rule
    that cannot run is skipped and `openapi-valid` says why. On a valid
    document a failing rule is a bug in the rule, and its exception propagates.
    """
    selected = [RULES[name] for name in only] if only else list(RULES.values())
    violations: list[Violation] = []
    failures: list[Exception] = []
    for house_rule in selected:
        try:
            violations.extend(list(house_rule.check(context)))
        except Exception as exc:  # re-raised below unless the document is invalid
            failures.append(exc)
    if failures and not any(True for _ in RULES["openapi-valid"].check(context)):
        raise failures[0]
    return violations
