"""Evidence: the exchanges that actually exercised each requirement.

A requirement PASSes only with evidence. A passive check adds one exchange of
evidence each time it applies to a response; a behaviour test that passes adds
the exchanges it sent (or says precisely what it exercised with
`KitSession.exercised`). A test that ran but never met the condition its
requirement is about ends with `not_exercised(...)`: the requirement is then
NOT EXERCISED, with the reason and the input that would exercise it. A test
that cannot judge its requirement because an earlier step broke another one
ends with `blocked(...)`: the requirement is BLOCKED by that one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NoReturn

import pytest

NOT_EXERCISED_PREFIX = "not exercised: "
BLOCKED_PREFIX = "blocked by "
SAMPLES_KEPT = 3


@dataclass
class Evidence:
    """How many exchanges exercised one requirement, and a few of them as reports show them."""

    count: int = 0
    samples: list[str] = field(default_factory=list)

    def add(self, count: int, sample: str | None) -> None:
        self.count += count
        if sample and len(self.samples) < SAMPLES_KEPT and sample not in self.samples:
            self.samples.append(sample[:300])


def not_exercised(reason: str, how: str) -> NoReturn:
    """End the test: it ran, but nothing it saw met its requirement's condition.

    `reason`: what happened instead (e.g. "no request was answered 429");
    `how`: the input that would exercise it (e.g. "pass --rate-limit-probe").
    """
    pytest.skip(f"{NOT_EXERCISED_PREFIX}{reason}; to exercise it: {how}")


def blocked(requirement: str, why: str) -> NoReturn:
    """End the test: a step it depends on broke `requirement`, so its own requirement cannot be judged."""
    pytest.skip(f"{BLOCKED_PREFIX}{requirement}: {why}")


def blocking_requirement(reason: str) -> str | None:
    """The requirement a skip reason written by `blocked` names."""
    if not reason.startswith(BLOCKED_PREFIX):
        return None
    return reason[len(BLOCKED_PREFIX):].split(":", 1)[0].strip() or None
