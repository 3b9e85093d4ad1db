"""The documentation rules catch each way a reader can be left without an answer.

`test_house_rules` proves each rule fires on one realistic fixture, alone. These
tests show the other cases each rule exists for (a code with no example at all,
a one-sentence error description, a nested property, a budget missing from the
prose) and that the reference server enforces the budgets the spec states.
"""

from __future__ import annotations

from typing import Any

import jsonpatch

from apollospace_refserver.config import Settings
from apollospace_spec.bundle import bundled_spec
from apollospace_spec.lint import context_for
from apollospace_spec.rules import Violation, run_rules

MEDIA = "/content/application~1json"


def _violations(patch: list[dict[str, Any]], rule_id: str) -> list[Violation]:
    document = jsonpatch.apply_patch(bundled_spec(), patch)
    return [v for v in run_rules(context_for(document), only=[rule_id]) if v.rule == rule_id]


def test_a_code_without_an_example_is_reported_once_for_its_response() -> None:
    """Dropping the only rate_limited example reports that 429 code once, naming an operation that may send it."""
    patch = [{"op": "remove", "path": f"/components/responses/TooManyRequests{MEDIA}/examples/rate_limited"}]
    violations = _violations(patch, "error-examples")
    assert [(v.location, v.message.split(",")[0]) for v in violations] == [
        ("#/components/responses/TooManyRequests", "the 429 body has no named examples (one per error code it may carry)")
    ], "\n".join(map(str, violations))


def test_an_operation_code_without_an_example_is_reported() -> None:
    """A per-operation code (stars_cap_agent_daily, 409) whose example is gone is reported for the Conflict response."""
    patch = [{"op": "remove", "path": f"/components/responses/Conflict{MEDIA}/examples/stars_cap_agent_daily"}]
    violations = _violations(patch, "error-examples")
    assert [v.location for v in violations] == ["#/components/responses/Conflict"], "\n".join(map(str, violations))
    assert "stars_cap_agent_daily (409), which invokeAgent may send" in violations[0].message


def test_a_one_sentence_error_description_says_only_when() -> None:
    """A description that says when but not what to do (one sentence) is reported."""
    path = "/paths/~1runs~1{run_id}~1cancel/post/x-apollospace-errors/1"
    patch = [
        {"op": "test", "path": f"{path}/code", "value": "run_not_cancelable"},
        {"op": "replace", "path": f"{path}/description", "value": "The run is already in a terminal state."},
    ]
    violations = _violations(patch, "error-codes-explained")
    assert len(violations) == 1 and "run_not_cancelable" in violations[0].message, "\n".join(map(str, violations))


def test_a_common_code_without_a_description_is_reported() -> None:
    """A common error code with no description is reported at its place in x-apollospace-common-errors."""
    patch = [{"op": "remove", "path": "/x-apollospace-common-errors/0/description"}]
    violations = _violations(patch, "error-codes-explained")
    assert [v.location for v in violations] == ["#/x-apollospace-common-errors/0"], "\n".join(map(str, violations))


def test_a_nested_property_without_a_description_is_reported() -> None:
    """Properties of inline objects (Run.input.prompt) need a description too."""
    patch = [{"op": "remove", "path": "/components/schemas/Run/properties/input/properties/prompt/description"}]
    violations = _violations(patch, "properties-described")
    assert [v.location for v in violations] == ["#/components/schemas/Run/properties/input/properties/prompt"]


def test_a_budget_missing_from_the_description_is_reported() -> None:
    """The description's table loses the write row: readers no longer see the write budget."""
    document = bundled_spec()
    lines = document["info"]["description"].splitlines()
    kept = [line for line in lines if not line.startswith("| `write` |")]
    assert len(kept) == len(lines) - 1, "the description has one table row for `write`"
    patch = [{"op": "replace", "path": "/info/description", "value": "\n".join(kept)}]
    violations = _violations(patch, "rate-limits-stated")
    assert [v.message for v in violations] == ["no line states the `write` limit of 1500 requests"]


def test_a_rate_class_without_a_budget_is_reported() -> None:
    """A rate class the operations use but x-apollospace-rate-limits leaves out is reported."""
    patch = [{"op": "remove", "path": "/x-apollospace-rate-limits/limits/billable"}]
    violations = _violations(patch, "rate-limits-stated")
    assert [v.location for v in violations] == ["#/x-apollospace-rate-limits/limits/billable"]


def test_the_reference_server_enforces_the_stated_budgets() -> None:
    """The reference server's default limits and window are the numbers the spec states."""
    limits = bundled_spec()["x-apollospace-rate-limits"]["limits"]
    settings = Settings()
    assert settings.rate_limits == {name: entry["requests"] for name, entry in limits.items()}
    assert {entry["window_seconds"] for entry in limits.values()} == {int(settings.rate_window_seconds)}
