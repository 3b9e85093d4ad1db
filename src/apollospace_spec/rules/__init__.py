"""House rules: the conventions of the API Reference, checked on the document.

Each rule is a small named function registered with `@rule`; `run_rules` runs
them all over a `LintContext` and returns typed `Violation`s.
"""

from __future__ import annotations

from apollospace_spec.rules.registry import RULES, LintContext, Violation, rule, run_rules

# Importing the modules registers their rules.
from apollospace_spec.rules import conventions, documentation, schemas, structure  # noqa: E402,F401  isort: skip
from apollospace_spec.rules import deprecation  # noqa: E402,F401  isort: skip

__all__ = ["RULES", "LintContext", "Violation", "rule", "run_rules"]
