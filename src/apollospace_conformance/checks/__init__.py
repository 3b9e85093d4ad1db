"""Response checks: small named functions, each owning one requirement.

`run_response_checks` applies every check to one exchange with a documented
operation; the fuzz layer registers the same functions as schemathesis checks.
"""

from __future__ import annotations

from apollospace_conformance.checks.context import ResponseContext, SpecIndex
from apollospace_conformance.checks.registry import (
    RESPONSE_CHECKS,
    ResponseCheck,
    response_check,
    run_response_checks,
)
from apollospace_conformance.checks.violation import ContractViolation, violation

# Importing the module registers its checks.
from apollospace_conformance.checks import conventions, details  # noqa: E402,F401  isort: skip

__all__ = [
    "RESPONSE_CHECKS",
    "ContractViolation",
    "ResponseCheck",
    "ResponseContext",
    "SpecIndex",
    "response_check",
    "run_response_checks",
    "violation",
]
