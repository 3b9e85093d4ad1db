"""JSON Schema validation against the bundled document (Draft 2020-12).

The reference server validates requests, the kit validates responses and the
linter validates examples with this one helper, so no schema is ever copied.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT_URI = "urn:apollospace:openapi"


class SchemaValidator:
    """Validates instances against any schema of one bundled document."""

    def __init__(self, document: dict[str, Any]) -> None:
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)

    def for_schema(self, schema: dict[str, Any]) -> Draft202012Validator:
        """A validator for `schema`, whose local refs point into the document."""
        return Draft202012Validator(
            _absolute_refs(schema),
            registry=self._registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )

    @functools.lru_cache(maxsize=1024)  # noqa: B019  one instance per document, kept for the process
    def for_pointer(self, pointer: str) -> Draft202012Validator:
        """A validator for the schema at `pointer` (`#/components/schemas/Lead`)."""
        return Draft202012Validator(
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
