"""JSON Schema validation against the bundled document (Draft 2020-12).

The reference server validates requests, the kit validates responses and the
linter validates examples with this one helper, so no schema is ever copied.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import regress
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT_URI = "urn:apollospace:openapi"


@functools.lru_cache(maxsize=4096)
def _ecma(pattern: str) -> regress.Regex:
    return regress.Regex(pattern)


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    """`pattern` with ECMA-262 semantics, as JSON Schema defines it (Python's re differs on `$`, `\\s` and `.`)."""
    if validator.is_type(instance, "string") and _ecma(pattern).find(instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


EcmaValidator = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})


class SchemaValidator:
    """Validates instances against any schema of one bundled document."""

    def __init__(self, document: dict[str, Any]) -> None:
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)

    def for_schema(self, schema: dict[str, Any]) -> Any:
        """A validator for `schema`, whose local refs point into the document."""
        return EcmaValidator(
            _absolute_refs(schema),
            registry=self._registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )

    @functools.lru_cache(maxsize=1024)  # noqa: B019  one instance per document, kept for the process
    def for_pointer(self, pointer: str) -> Any:
        """A validator for the schema at `pointer` (`#/components/schemas/Lead`)."""
        return EcmaValidator(
            {"$ref": DOCUMENT_URI + pointer},
            registry=self._registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )

    def errors(self, schema: dict[str, Any], instance: Any) -> Iterator[ValidationError]:
        return self.for_schema(schema).iter_errors(instance)


def _absolute_refs(node: Any) -> Any:
    """A copy of `node` whose local `$ref`s point into the registered document."""
    if isinstance(node, list):
        return [_absolute_refs(item) for item in node]
    if isinstance(node, dict):
        return {
            key: DOCUMENT_URI + value if key == "$ref" and isinstance(value, str) and value.startswith("#") else _absolute_refs(value)
            for key, value in node.items()
        }
    return node


def describe(error: ValidationError) -> str:
    """One readable line: where in the instance, and what is wrong."""
    where = "/".join(str(part) for part in error.absolute_path)
    return f"{where or '(root)'}: {error.message[:200]}"
