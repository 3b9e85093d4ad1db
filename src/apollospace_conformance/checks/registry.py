"""The registry of response checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from apollospace_conformance.checks.context import ResponseContext
from apollospace_conformance.checks.violation import ContractViolation

CheckFunction = Callable[[ResponseContext], "bool | None"]  # True: the check applied


@dataclass(frozen=True)
class ResponseCheck:
    name: str
    requirement: str
    function: CheckFunction
    needs: str  # the response the check applies to, and how a run gets one (for NOT EXERCISED)


RESPONSE_CHECKS: dict[str, ResponseCheck] = {}


def response_check(name: str, requirement: str, needs: str = "a response of a documented operation") -> Callable[[CheckFunction], CheckFunction]:
    """Register a check that raises ContractViolation for `requirement` when a response breaks it."""

    def register(function: CheckFunction) -> CheckFunction:
        RESPONSE_CHECKS[name] = ResponseCheck(name, requirement, function, needs)
        return function

    return register


def run_response_checks(ctx: ResponseContext) -> tuple[list[ContractViolation], list[str]]:
    """Every registered check on one response: the violations found and the checks that applied."""
    found, applied = [], []
    for check in RESPONSE_CHECKS.values():
        try:
            if check.function(ctx):
                applied.append(check.name)
        except ContractViolation as broken:
            found.append(broken)
            applied.append(check.name)
    return found, applied
