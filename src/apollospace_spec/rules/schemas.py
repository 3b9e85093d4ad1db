"""Rules on schemas: identifiers, timestamps, field names, nullability, examples."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from apollospace_spec.model import resolve, walk
from apollospace_spec.rules.registry import LintContext, Violation, rule
from apollospace_spec.validation import SchemaValidator, describe

UUID_REF = "#/components/schemas/Uuid"
TIMESTAMP_REF = "#/components/schemas/Timestamp"
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
V4_PATTERN_MARK = "-4[0-9a-fA-F]{3}-[89abAB]"
UTC_PATTERN_MARK = "(Z|\\+00:00)$"
ID_NAME = re.compile(r"^(id|.+_id)$")
IDS_NAME = re.compile(r"^.+_ids$")
# Support identifiers, not resource ids: the conventions page shows `req_abc123`.
NOT_RESOURCE_IDS = {"request_id"}


def _schema_nodes(ctx: LintContext) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object in components and operations (not query parameters)."""
    for pointer, node in walk(ctx.document):
        if isinstance(node, dict) and _is_schema_pointer(pointer):
            yield pointer, node


def _is_schema_pointer(pointer: str) -> bool:
    return "/components/schemas/" in pointer or "/schema" in pointer or "/properties/" in pointer


def _properties(ctx: LintContext) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for pointer, node in _schema_nodes(ctx):
        properties = node.get("properties")
        if isinstance(properties, dict):
            for name, schema in properties.items():
                yield f"{pointer}/properties/{name}", name, schema


def _allows_only_uuid(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    if schema.get("$ref") == UUID_REF:
        return True
    options = schema.get("oneOf") or schema.get("anyOf")
    if options:
        return all(_allows_only_uuid(option) or option == {"type": "null"} for option in options) and any(_allows_only_uuid(o) for o in options)
    return False


@rule("ids-are-uuid-v4", "Every id is the shared v4 Uuid; no integer id anywhere.", "/req/identifiers/uuid-v4", "/req/identifiers/no-integer-ids")
def ids_are_uuid_v4(ctx: LintContext) -> Iterator[Violation]:
    uuid = (ctx.document.get("components") or {}).get("schemas", {}).get("Uuid", {})
    if V4_PATTERN_MARK not in str(uuid.get("pattern", "")):
        yield Violation("ids-are-uuid-v4", "#/components/schemas/Uuid", "pattern does not pin version 4")
    for pointer, name, schema in _properties(ctx):
        if ID_NAME.match(name) and name not in NOT_RESOURCE_IDS and not _allows_only_uuid(schema):
            yield Violation("ids-are-uuid-v4", pointer, f"{name} is not a $ref to the v4 Uuid")
        if IDS_NAME.match(name) and not _allows_only_uuid((resolve(ctx.document, schema) or {}).get("items")):
            yield Violation("ids-are-uuid-v4", pointer, f"{name} items are not v4 Uuids")
    for op in ctx.operations():
        for parameter in op.parameters(ctx.document):
            if ID_NAME.match(parameter["name"]) and not _allows_only_uuid(parameter.get("schema")):
                yield Violation("ids-are-uuid-v4", op.location, f"parameter {parameter['name']} is not a v4 Uuid")


@rule("timestamps-utc", "Every date-time outside query parameters is UTC-patterned; every date is YYYY-MM-DD.", "/req/dates/utc-timestamps", "/req/dates/date-format")
def timestamps_utc(ctx: LintContext) -> Iterator[Violation]:
    query_schemas = {id(p.get("schema")) for op in ctx.operations() for p in op.parameters(ctx.document) if p["in"] == "query"}
    for pointer, node in _schema_nodes(ctx):
        if id(node) in query_schemas or pointer.startswith("#/components/parameters/"):
            continue
        if node.get("format") == "date-time" and not str(node.get("pattern", "")).endswith(UTC_PATTERN_MARK):
            yield Violation("timestamps-utc", pointer, "date-time without the UTC pattern (use Timestamp)")
        if node.get("format") == "date" and node.get("pattern") != "^[0-9]{4}-[0-9]{2}-[0-9]{2}$":
            yield Violation("timestamps-utc", pointer, "date without the YYYY-MM-DD pattern (use Date)")
        if pointer.endswith("_at") and _declares_a_type(node) and node.get("format") != "date-time":
            yield Violation("timestamps-utc", pointer, "an *_at field that is not a Timestamp")


def _declares_a_type(schema: dict[str, Any]) -> bool:
    """True for an inline schema with a non-null `type` (not a `$ref` or a `oneOf`)."""
    declared = schema.get("type")
    types = declared if isinstance(declared, list) else [declared]
    return any(isinstance(t, str) and t != "null" for t in types)


@rule("snake-case-fields", "Property names and query parameter names are snake_case.")
def snake_case_fields(ctx: LintContext) -> Iterator[Violation]:
    for pointer, name, _ in _properties(ctx):
        if not SNAKE_CASE.match(name):
            yield Violation("snake-case-fields", pointer, f"{name} is not snake_case")
    for op in ctx.operations():
        for parameter in op.parameters(ctx.document):
            if parameter["in"] in ("query", "path") and not SNAKE_CASE.match(parameter["name"]):
                yield Violation("snake-case-fields", op.location, f"parameter {parameter['name']} is not snake_case")


@rule("no-nullable-keyword", "OpenAPI 3.1 nullability only: type arrays, never `nullable: true`.")
def no_nullable_keyword(ctx: LintContext) -> Iterator[Violation]:
    for pointer, node in walk(ctx.document):
        if isinstance(node, dict) and "nullable" in node and not pointer.endswith("/properties"):
            yield Violation("no-nullable-keyword", pointer, "`nullable` is OpenAPI 3.0; use type: [..., \"null\"]")


@rule("examples-valid", "Every example validates against its schema.")
def examples_valid(ctx: LintContext) -> Iterator[Violation]:
    validator = SchemaValidator(ctx.document)
    for pointer, node in walk(ctx.document):
        if not isinstance(node, dict):
            continue
        if _is_schema_pointer(pointer) and isinstance(node.get("examples"), list):
            schema = {k: v for k, v in node.items() if k != "examples"}
            for index, example in enumerate(node["examples"]):
                for error in validator.errors(schema, example):
                    yield Violation("examples-valid", f"{pointer}/examples/{index}", describe(error))
        if "example" in node and isinstance(node.get("schema"), dict):
            for error in validator.errors(node["schema"], node["example"]):
                yield Violation("examples-valid", f"{pointer}/example", describe(error))
        named = node.get("examples")
        in_properties = pointer.endswith("/properties")
        if isinstance(named, dict) and isinstance(node.get("schema"), dict) and not in_properties:
            # Media type, parameter and header objects: a map of Example objects.
            for name, example in named.items():
                try:
                    example = resolve(ctx.document, example)
                except (KeyError, IndexError, TypeError):
                    continue  # a dangling $ref is openapi-valid's to report
                if isinstance(example, dict) and "value" in example:
                    for error in validator.errors(node["schema"], example["value"]):
                        where = f"{pointer}/examples/{name}/value"
                        yield Violation("examples-valid", where, describe(error))
