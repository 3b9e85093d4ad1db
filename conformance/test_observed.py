"""Passive checks: every response the behaviour tests received, held to every convention.

These run last, so they see every response of the run.
"""

from __future__ import annotations

import pytest

from apollospace_conformance.checks import RESPONSE_CHECKS
from apollospace_conformance.session import KitSession

_OBSERVED = [pytest.param(check.name, check.requirement, marks=pytest.mark.requirement(check.requirement), id=check.name) for check in RESPONSE_CHECKS.values()]
_OBSERVED.append(pytest.param("request_id_unique", "/req/errors/request-id-unique", marks=pytest.mark.requirement("/req/errors/request-id-unique"), id="request_id_unique"))


@pytest.mark.parametrize(("check_name", "requirement"), _OBSERVED)
def test_observed_responses(kit: KitSession, check_name: str, requirement: str) -> None:
    """Requirement: the check's requirement.
    Test purpose: no response of the run broke it.
    Test method: 1. every response of the behaviour tests went through the check 2. any violation fails this test.
    """
    violations = kit.observations.violations.get(requirement, [])
    if violations:
        raise ExceptionGroup(f"{len(violations)} response(s) broke {requirement}", violations)
    if kit.observations.applied.get(check_name, 0) == 0:
        pytest.skip(f"no response of the run was one {check_name} applies to")
