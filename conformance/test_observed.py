"""Passive checks: every response the behaviour tests received, held to every convention.

These run last, so they see every response of the run.
"""

from __future__ import annotations

import pytest

from apollospace_conformance.checks import RESPONSE_CHECKS
from apollospace_conformance.evidence import not_exercised
from apollospace_conformance.session import KitSession

_OBSERVED = [pytest.param(check.name, check.requirement, check.needs, marks=pytest.mark.requirement(check.requirement), id=check.name) for check in RESPONSE_CHECKS.values()]
_OBSERVED.append(pytest.param("request_id_unique", "/req/errors/request-id-unique", "an error answer with the envelope",
                              marks=pytest.mark.requirement("/req/errors/request-id-unique"), id="request_id_unique"))
# Every answered request is evidence that the server answers; a request it left unanswered fails the test that sent it.
_OBSERVED.append(pytest.param("answered", "/req/responses/timely", "any answered request", marks=pytest.mark.requirement("/req/responses/timely"), id="answered"))


@pytest.mark.observational
@pytest.mark.parametrize(("check_name", "requirement", "needs"), _OBSERVED)
def test_observed_responses(kit: KitSession, check_name: str, requirement: str, needs: str) -> None:
    """Requirement: the check's requirement.
    Test purpose: no response of the run broke it.
    Test method: 1. every response of the behaviour tests went through the check 2. any violation fails this test.
    """
    violations = kit.observations.violations.get(requirement, [])
    if violations:
        raise ExceptionGroup(f"{len(violations)} response(s) broke {requirement}", violations)
    if kit.observations.applied.get(check_name, 0) == 0 and not kit.evidence[requirement].count:
        not_exercised(f"no response of the run was one {check_name} applies to", f"a run that gets {needs}")
