"""The one failure type of the kit: a requirement broken, with what was expected and received."""

from __future__ import annotations

from typing import Any


class ContractViolation(AssertionError):
    """The server broke `requirement`. Reports render expected, received and the reproduction."""

    def __init__(self, requirement: str, expected: str, received: str, reproduction: str | None = None) -> None:
        super().__init__(f"[{requirement}] Expected: {expected} / Received: {received}")
        self.requirement = requirement
        self.expected = expected
        self.received = received
        self.reproduction = reproduction

    def as_dict(self) -> dict[str, Any]:
        return {"requirement": self.requirement, "expected": self.expected, "received": self.received, "reproduction": self.reproduction}


def violation(requirement: str, expected: str, received: str, exchange: Any = None) -> ContractViolation:
    """Build a violation; `exchange` (anything with `.curl()`) supplies the reproduction."""
    return ContractViolation(requirement, expected, received, exchange.curl() if exchange is not None and hasattr(exchange, "curl") else None)
