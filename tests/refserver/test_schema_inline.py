"""The request-body validators with inlined refs (schema_inline.py) judge every body as the $ref ones do."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from apollospace_refserver.contract import Contract
from apollospace_refserver.schema_inline import inline_refs
from apollospace_spec.model import resolve

ODD_VALUES: list[Any] = [None, 0, -1, 1.5, "", "x", "a" * 300, "not an email", [], ["x"], {}, {"k": 1}, True]


def _bodies(schema: dict[str, Any]) -> Iterator[Any]:
    """The schema's examples, and each of them with one member removed, replaced or added."""
    examples = [e for e in schema.get("examples", []) if isinstance(e, dict)] or [{}]
    for example in examples:
        yield example
        for name in list(example) + list(schema.get("properties", {})):
            without = {k: v for k, v in example.items() if k != name}
            yield without
            for value in ODD_VALUES:
                yield {**copy.deepcopy(example), name: value}
        yield {**example, "unknown_member": 1}
    yield from ODD_VALUES


def _verdict(validator: Any, body: Any) -> tuple[bool, list[Any], str | None]:
    error = next(validator.iter_errors(body), None)
    return (error is None, [] if error is None else list(error.absolute_path), None if error is None else error.validator)


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract()


def test_inlined_body_validators_agree_with_the_ref_ones(contract: Contract) -> None:
    """For every operation with a JSON body: same validity, same first error path and keyword, on examples and their mutations."""
    compared = 0
    for operation in contract.by_id.values():
        request_body = operation.definition.get("requestBody")
        if not request_body:
            continue
        body = resolve(contract.document, request_body)
        schema = body.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            continue
        with_refs = contract.validator.for_schema(schema)
        inlined = contract.validator.for_schema(inline_refs(contract.document, schema))
        for instance in _bodies(inline_refs(contract.document, schema)):
            assert _verdict(inlined, instance) == _verdict(with_refs, instance), (operation.operation_id, instance)
            compared += 1
    assert compared > 100


def test_a_recursive_reference_stays_a_reference() -> None:
    document = {"components": {"schemas": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}}}}}
    inlined = inline_refs(document, {"$ref": "#/components/schemas/Node"})
    assert inlined == {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}}


def test_a_reference_beside_other_keywords_becomes_all_of() -> None:
    document = {"components": {"schemas": {"Id": {"type": "string"}}}}
    assert inline_refs(document, {"$ref": "#/components/schemas/Id", "maxLength": 5}) == {"allOf": [{"type": "string"}], "maxLength": 5}
