"""The compiled first verdict (fast_validation.py) never changes a request's verdict or its first error."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
import regress
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from apollospace_refserver.contract import Contract, Parameter, _coerce
from apollospace_refserver.fast_validation import FastValidator, compile_rust
from apollospace_refserver.schema_inline import inline_refs
from tests.refserver.test_schema_inline import ODD_VALUES, _bodies

# Characters where ECMA-262, Python re and Rust regex disagree, or that look like what a pattern wants.
TRICKY = [
    "\n", "\r", "\t", "\v", "\f", " ", "\u0085", "\u00a0", "\u1680", "\u180e", "\u2000", "\u200b", "\u2028", "\u2029",
    "\u202f", "\u3000", "\ufeff", "\u0663", "\u0967", "\uff10", "\u00b2", "\u0130", "\u017f", "\u212a", "\u00e9", "\U0001f600",
    "~", "/", "=", "+", ",", "-", ".", "_", "Z", "z", "0", "9", "a", "A", "\x00", "\x7f",
]
HUGE = 2**64 + 1

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20) | st.sampled_from(TRICKY),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract()


def _first(python: Any, value: Any) -> tuple[bool, list[Any], str | None, str | None]:
    error = next(python.iter_errors(value), None)
    return _shape(error)


def _shape(error: Any) -> tuple[bool, list[Any], str | None, str | None]:
    if error is None:
        return (True, [], None, None)
    return (False, list(error.absolute_path), error.validator, error.message)


def _outcome(judge: Any, value: Any) -> Any:
    """The first error's shape, or the exception raised (python's pattern check raises on a lone surrogate)."""
    try:
        return judge(value)
    except Exception as exc:  # noqa: BLE001
        return type(exc)


def _agree(fast: FastValidator, value: Any) -> bool:
    """Same verdict and first error; True when rust accepted (to count how often the fast path is taken)."""
    assert _outcome(lambda v: _shape(fast.first_error(v)), value) == _outcome(lambda v: _first(fast.python, v), value), value
    if fast.rust_accepts(value):
        assert next(fast.python.iter_errors(value), None) is None, ("rust accepted what python refuses", value)
        return True
    return False


def _body_validators(contract: Contract) -> list[tuple[str, FastValidator]]:
    return [(op.operation_id, op.body_validator) for op in contract.by_id.values() if op.body_validator is not None]


def _parameters(contract: Contract) -> list[tuple[str, Parameter]]:
    return [(op.operation_id, parameter) for op in contract.by_id.values() for parameter in op.parameters]


def _parameter_values(contract: Contract, parameter: Parameter) -> Iterator[Any]:
    """Raw strings as a query or header carries them (coerced as the server does), examples, and odd values."""
    schema = inline_refs(contract.document, parameter.schema)
    raws = ["", "0", "1", "-1", "20", "101", "1.5", "true", "false", "x", "a" * 300, str(HUGE), "9" * 30]
    raws += [str(e) for e in schema.get("examples", [])] + [str(e) for e in schema.get("enum", [])]
    raws += ["2026-01-02T03:04:05Z", "2026-12-31T23:59:60Z", "0000-01-01", "2026-01-02", "3fa85f64-5717-4562-b3fc-2c963f66afa6", "a@b.co", "https://x.example/a b"]
    for raw in list(raws):
        raws += [raw + "\n", " " + raw, raw + "\u00a0"]
    for raw in raws:
        yield raw
        yield _coerce(raw, schema)
    yield from ODD_VALUES


def test_every_validator_has_a_rust_twin(contract: Contract) -> None:
    """Today every request schema compiles (a schema that does not is validated by python alone)."""
    assert all(fast.rust is not None for _, fast in _body_validators(contract))
    assert all(parameter.validator.rust is not None for _, parameter in _parameters(contract))


def test_bodies_agree_on_examples_and_mutations(contract: Contract) -> None:
    accepted = compared = 0
    for _, fast in _body_validators(contract):
        for body in _bodies(fast.python.schema):
            accepted += _agree(fast, body)
            compared += 1
            for odd in (HUGE, -HUGE, 2.0**64, "\ud800"):
                for name in list(body)[:3] if isinstance(body, dict) else []:
                    _agree(fast, {**copy.deepcopy(body), name: odd})
    assert compared > 100 and accepted > 15  # the fast path is taken, on every valid example


def test_parameters_agree(contract: Contract) -> None:
    accepted = 0
    for _, parameter in _parameters(contract):
        for value in _parameter_values(contract, parameter):
            accepted += _agree(parameter.validator, value)
    assert accepted > 100


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_bodies_agree_on_arbitrary_json(contract: Contract, data: st.DataObject) -> None:
    """An example of one operation's body with members added or replaced by arbitrary JSON, and arbitrary JSON alone."""
    _, fast = data.draw(st.sampled_from(_body_validators(contract)))
    schema = fast.python.schema
    examples = [e for e in schema.get("examples", []) if isinstance(e, dict)] or [{}]
    body = copy.deepcopy(data.draw(st.sampled_from(examples)))
    names = st.sampled_from(sorted(schema.get("properties", {})) or ["x"]) | st.text(max_size=6)
    body.update(data.draw(st.dictionaries(names, json_values, max_size=3)))
    _agree(fast, body)
    _agree(fast, data.draw(json_values))


def _distinct_parameters(contract: Contract) -> list[Parameter]:
    by_schema = {json.dumps(parameter.validator.python.schema, sort_keys=True): parameter for _, parameter in _parameters(contract)}
    return list(by_schema.values())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.text(alphabet=st.sampled_from(TRICKY) | st.characters(), max_size=40))
def test_parameters_agree_on_arbitrary_strings(contract: Contract, raw: str) -> None:
    for parameter in _distinct_parameters(contract):
        _agree(parameter.validator, raw)
        _agree(parameter.validator, _coerce(raw, parameter.schema))


def _patterns(node: Any) -> set[str]:
    if isinstance(node, dict):
        own = {node["pattern"]} if isinstance(node.get("pattern"), str) else set()
        return own.union(*(_patterns(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_patterns(item) for item in node))
    return set()


def _aimed_at(pattern: str, matching: list[str]) -> Iterator[str]:
    """Strings that match, and each with one tricky character added or swapped in at the edges and the middle."""
    for text in matching:
        yield text
        for char in TRICKY:
            yield char + text
            yield text + char
            for at in {0, len(text) // 2, max(len(text) - 1, 0)}:
                yield text[:at] + char + text[at + 1:]
    yield from TRICKY


def _matching(pattern: str) -> list[str]:
    found = st.from_regex(pattern.replace("\\x21-\\x7E", "!-~"), fullmatch=True)
    samples: list[str] = []

    @settings(max_examples=20, database=None, deadline=None)
    @given(found)
    def collect(text: str) -> None:
        samples.append(text)

    collect()
    return [text for text in samples if regress.Regex(pattern).find(text) is not None][:8]


def test_patterns_agree_with_regress(contract: Contract) -> None:
    """jsonschema_rs's ECMA translation of every pattern in the spec matches as regress (the python validator's engine) does."""
    patterns = _patterns(contract.document)
    assert len(patterns) >= 10
    for pattern in patterns:
        rust = jsonschema_rs.Draft202012Validator({"pattern": pattern})
        ecma = regress.Regex(pattern)
        for text in _aimed_at(pattern, _matching(pattern)):
            assert rust.is_valid(text) == (ecma.find(text) is not None), (pattern, text)


def test_custom_formats_override_the_built_in_ones(contract: Contract) -> None:
    refuse = jsonschema_rs.Draft202012Validator({"format": "email"}, formats={"email": lambda _: False}, validate_formats=True)
    accept = jsonschema_rs.Draft202012Validator({"format": "email"}, formats={"email": lambda _: True}, validate_formats=True)
    assert not refuse.is_valid("someone@example.com")
    assert accept.is_valid("not an email")
    samples = ["", "x", "a@b", "someone@example.com", "https://x.example/a", "/relative", "a b", "2026-01-02", "2026-02-30",
               "2026-01-02T03:04:05Z", "2026-01-02T03:04:05", "3fa85f64-5717-4562-b3fc-2c963f66afa6", "3fa85f64571745"]
    # Where jsonschema_rs 0.60's own checks differ from python's: it accepts the first two, python accepts the others.
    samples += ["2026-12-31T23:59:60Z", "0000-01-01", "@", "a b@c", "a..b@c.d"]
    for name in contract.formats:
        rust = compile_rust({"format": name}, contract.formats)
        assert rust is not None
        for text in samples:
            assert rust.is_valid(text) == Draft202012Validator.FORMAT_CHECKER.conforms(text, name), (name, text)


def test_a_huge_integer_is_judged_by_python() -> None:
    """jsonschema_rs compares integers past 64 bits inexactly with float bounds: such values skip the fast path."""
    python = Draft202012Validator({"type": "object", "properties": {"n": {"maximum": 2.0**64}}})
    fast = FastValidator.build(python, python.schema, [])
    assert fast.rust is not None and not fast.rust_accepts({"n": HUGE})
    assert fast.first_error({"n": HUGE}) is not None  # rust alone would accept: 2**64 + 1 > 2.0**64
    assert fast.first_error({"n": 2**64 - 1}) is None
    nested = Draft202012Validator({"type": "array", "items": {"type": "array", "items": {"exclusiveMaximum": 2.0**64}}})
    assert FastValidator.build(nested, nested.schema, []).first_error([[1], [2, 2**64]]) is not None


def test_what_rust_cannot_read_is_judged_by_python() -> None:
    python = Draft202012Validator({"type": "string", "maxLength": 3})
    fast = FastValidator.build(python, python.schema, [])
    with pytest.raises(Exception):  # noqa: B017, PT011  the exception type is jsonschema_rs's business
        fast.rust.is_valid("\ud800")
    assert fast.first_error("\ud800") is None
    assert fast.first_error("\ud800" * 4) is not None


def test_a_schema_rust_cannot_take_is_validated_by_python_alone() -> None:
    python = Draft202012Validator({"$ref": "#/$defs/x", "$defs": {"x": {"type": "string"}}})
    assert FastValidator.build(python, python.schema, []).rust is None
    broken = FastValidator.build(python, {"type": 12}, [])
    assert broken.rust is None and broken.first_error(1) is not None
