"""Layer 1: property-based tests of every operation of the spec.

A new operation added to the spec is fuzzed here with no change to the kit.
"""

from __future__ import annotations

import random

import pytest

from apollospace_conformance import runtime
from apollospace_conformance.fuzzing import (
    FUZZ_REQUIREMENTS,
    build_schema,
    call_and_check,
    delete_created,
    restore_settings,
    snapshot_settings,
)
from apollospace_conformance.session import KitSession

_run = runtime.require()
if not _run.settings.profile_settings.fuzz:
    pytest.skip(f"the {_run.settings.profile} profile is a smoke run and leaves out the property-based layer; run --profile standard",
                allow_module_level=True)
schema = build_schema(_run.settings)


@pytest.fixture(scope="module", autouse=True)
def _settings_restored(kit: KitSession):  # type: ignore[no-untyped-def]
    """Generated PUTs change the organization's settings (Stars caps): put them back afterwards."""
    saved = snapshot_settings(kit)
    yield
    restore_settings(kit, saved)


@pytest.mark.observational
@pytest.mark.requirement(*FUZZ_REQUIREMENTS)
@schema.parametrize()
def test_fuzz(case, kit: KitSession) -> None:  # type: ignore[no-untyped-def]
    """Requirement: every convention on every operation.
    Test purpose: generated valid and invalid requests never break a convention.
    Test method: 1. generate cases from the spec (positive and negative) 2. send each as tenant A 3. run every check on the response.
    """
    call_and_check(case, kit, _keys)


_keys = random.Random(_run.settings.seed)


if _run.settings.profile_settings.stateful:
    _machine = schema.as_state_machine()
    _created: list = []  # type: ignore[type-arg]  # (status, headers) of every stateful response, for cleanup

    class _Scenario(_machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case):  # type: ignore[no-untyped-def]
            return {"headers": {"Authorization": f"Bearer {_run.settings.token_a}"}}

        def call(self, case, **kwargs):  # type: ignore[no-untyped-def]
            from apollospace_conformance.fuzzing import call_or_judge

            return call_or_judge(case, runtime.active().state, **kwargs)  # type: ignore[union-attr]

        def validate_response(self, response, case, additional_checks=None, **kwargs):  # type: ignore[no-untyped-def]
            from apollospace_conformance.fuzzing import builtin_checks, builtin_evidence, kit_checks

            builtin_evidence(case, response)
            case.validate_response(response, checks=builtin_checks() + kit_checks(), recorder=self.recorder)

        def after_call(self, response, case):  # type: ignore[no-untyped-def]
            super().after_call(response, case)  # keeps the stateful checks working
            _created.append((response.status_code, response.headers))

        def before_call(self, case):  # type: ignore[no-untyped-def]
            state = runtime.active().state  # type: ignore[union-attr]
            state.pacer.acquire()
            state.generated_cases += 1
            if case.headers is None:
                case.headers = {}
            case.headers["X-Organization-Id"] = _run.settings.org_a
            if "Idempotency-Key" in case.headers and (case.meta is None or case.meta.generation.mode.is_positive):
                case.headers["Idempotency-Key"] = str(_keys.getrandbits(64))

    @pytest.mark.observational
    @pytest.mark.requirement(*FUZZ_REQUIREMENTS)
    def test_stateful_sequences(kit: KitSession) -> None:
        """Requirement: every convention across linked calls (create, then read, update, delete).
        Test purpose: sequences that follow the spec's links keep every convention and the resource lifecycle.
        Test method: 1. run the schemathesis state machine built from the spec's links 2. check every response.
        """
        import hypothesis

        try:
            _Scenario.run(settings=hypothesis.settings(max_examples=max(5, _run.settings.profile_settings.max_examples // 2),
                                                   stateful_step_count=8, deadline=None, derandomize=True, database=None,
                                                   suppress_health_check=list(hypothesis.HealthCheck)))
        finally:
            for status, headers in _created:
                delete_created(kit, status, headers)
