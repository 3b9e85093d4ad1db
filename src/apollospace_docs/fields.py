"""Turn JSON Schemas of the bundled document into `Field` trees the templates can walk."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from apollospace_spec.model import NO_DECLARED_VALUE, declared_value, resolve

# Schemas whose description is a generic format note: a field that merely refers to one keeps
# its own description only (every id is a Uuid; repeating its description would be noise).
MAX_DEPTH = 6


@dataclass(frozen=True)
class Field:
    """One parameter, body field or response field, with its nested fields."""

    name: str
    type: str
    required: bool
    description: str
    notes: tuple[str, ...] = ()
    default: str | None = None
    children: tuple[Field, ...] = ()
    children_title: str = "properties"

    @property
    def has_children(self) -> bool:
        return bool(self.children)

    def flatten(self, prefix: str = "") -> list[tuple[str, Field]]:
        """(dotted path, field) for this field and every nested one, depth first."""
        path = f"{prefix}{self.name}"
        rows = [(path, self)]
        joiner = "[]." if "[]" in self.type else "."
        for child in self.children:
            rows.extend(child.flatten(path + joiner))
        return rows


@dataclass(frozen=True)
class _Shape:
    type: str
    nullable: bool
    description: str
    notes: tuple[str, ...]
    default: str | None
    children: tuple[Field, ...]
    children_title: str

    def as_field(self, name: str, *, required: bool, description: str = "") -> Field:
        """The field `name` of this shape; a non-empty `description` replaces the shape's own."""
        return Field(
            name=name,
            type=self.type + (" | null" if self.nullable else ""),
            required=required,
            description=description or self.description,
            notes=self.notes,
            default=self.default,
            children=self.children,
            children_title=self.children_title,
        )


class FieldBuilder:
    """Builds fields from schemas of one document."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def object_fields(self, schema: dict[str, Any]) -> tuple[Field, ...]:
        """The fields of an object schema (a body or a response): one per property."""
        return self._properties(schema, depth=0, seen=())

    def field(
        self, name: str, schema: dict[str, Any], *, required: bool, description: str = ""
    ) -> Field:
        """One named field of `schema` (a parameter or a header)."""
        return self._shape(schema, depth=0, seen=()).as_field(
            name, required=required, description=description
        )

    def parameter(self, name: str, definition: dict[str, Any]) -> Field:
        """The field of a parameter or header object: its schema, `required` and description."""
        definition = resolve(self.document, definition)
        return self.field(
            name,
            definition.get("schema", {}),
            required=bool(definition.get("required")),
            description=str(definition.get("description", "")).strip(),
        )

    # --- internals -----------------------------------------------------------------

    def _properties(
        self, schema: dict[str, Any], depth: int, seen: tuple[str, ...]
    ) -> tuple[Field, ...]:
        schema, seen = self._deref(schema, seen)
        required = set(schema.get("required", []))
        return tuple(
            self._shape(prop, depth + 1, seen).as_field(name, required=name in required)
            for name, prop in (schema.get("properties") or {}).items()
        )

    def _deref(
        self, schema: dict[str, Any], seen: tuple[str, ...]
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return resolve(self.document, schema), (*seen, ref)
        return schema, seen

    def _shape(self, schema: dict[str, Any], depth: int, seen: tuple[str, ...]) -> _Shape:
        own_description = str(schema.get("description", "")).strip()
        ref = schema.get("$ref")
        target, inner_seen = self._deref(schema, seen)
        description = own_description
        if not description and isinstance(ref, str) and "format" not in target:
            description = str(target.get("description", "")).strip()
        nullable = False
        for combinator in ("oneOf", "anyOf"):
            branches = target.get(combinator)
            if not branches:
                continue
            non_null = [b for b in branches if resolve(self.document, b).get("type") != "null"]
            nullable = len(non_null) < len(branches)
            if len(non_null) == 1:
                inner = self._shape(non_null[0], depth, inner_seen)
                return _Shape(
                    inner.type,
                    nullable or inner.nullable,
                    description or inner.description,
                    inner.notes,
                    inner.default,
                    inner.children,
                    inner.children_title,
                )
            labels = [self._shape(b, depth, inner_seen).type for b in non_null]
            return _Shape(" | ".join(labels), nullable, description, (), None, (), "properties")
        types = target.get("type", "object" if "properties" in target else "any")
        if isinstance(types, list):
            nullable = "null" in types
            types = [t for t in types if t != "null"]
            type_name = " | ".join(types) if types else "null"
        else:
            type_name = str(types)
        notes = self._notes(target)
        default = target.get("default")
        default_text = None if default is None else _literal(default)
        children: tuple[Field, ...] = ()
        children_title = "properties"
        label = type_name
        if type_name == "array":
            items = target.get("items", {})
            item_shape = self._shape(items, depth, inner_seen)
            label = f"{item_shape.type}[]"
            if item_shape.notes:
                item_notes = " ".join(item_shape.notes)
                notes = (*notes, "Each item: " + item_notes[0].lower() + item_notes[1:])
            children = item_shape.children
            children_title = "item properties"
        elif type_name.startswith("object") or "properties" in target:
            cyclic = isinstance(ref, str) and ref in seen
            if target.get("properties") and depth < MAX_DEPTH and not cyclic:
                children = self._properties(target, depth, inner_seen)
            elif isinstance(target.get("additionalProperties"), dict):
                label = "object"
                key_pattern = (target.get("propertyNames") or {}).get("pattern")
                if key_pattern:
                    notes = (*notes, f"Keys match `{key_pattern}`.")
        elif "format" in target:
            label = f"{type_name}<{target['format']}>"
        return _Shape(label, nullable, description, notes, default_text, children, children_title)

    @staticmethod
    def _notes(schema: dict[str, Any]) -> tuple[str, ...]:
        notes: list[str] = []
        if "const" in schema:
            notes.append(f"Always `{_literal(schema['const'])}`.")
        if "enum" in schema:
            values = ", ".join(f"`{_literal(v)}`" for v in schema["enum"] if v is not None)
            notes.append(f"One of: {values}.")
        low, high = schema.get("minLength"), schema.get("maxLength")
        if low is not None and high is not None:
            notes.append(f"Length: {low} to {high} characters.")
        elif high is not None:
            notes.append(f"At most {high} characters.")
        elif low is not None and low > 0:
            notes.append(f"At least {low} characters.")
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and high is not None:
            notes.append(f"Range: {low} to {high}.")
        elif high is not None:
            notes.append(f"At most {high}.")
        elif low is not None:
            notes.append(f"At least {low}.")
        low, high = schema.get("minItems"), schema.get("maxItems")
        if low is not None and high is not None:
            notes.append(f"{low} to {high} items.")
        elif high is not None:
            notes.append(f"At most {high} items.")
        elif low:
            notes.append(f"At least {low} items.")
        if schema.get("maxProperties") is not None:
            notes.append(f"At most {schema['maxProperties']} keys.")
        if "pattern" in schema and "format" not in schema and "enum" not in schema:
            notes.append(f"Pattern: `{schema['pattern']}`.")
        return tuple(notes)


def _literal(value: Any) -> str:
    """A value as JSON text: `["wallet", "organization_monthly_cap"]`, `true`, `null`, not `str()`."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def assemble_example(document: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> Any:
    """An example for a schema that has none, built from the examples of its parts.

    A schema's own `examples` win; then its `$ref` target's; an object is assembled from
    its required properties, an array from one item, a nullable union from its non-null
    branch. Used only where the spec gives no example, and marked as assembled.
    """
    if (named := declared_value(schema)) is not NO_DECLARED_VALUE:
        return named
    if "$ref" in schema:
        return assemble_example(document, resolve(document, schema), depth)
    for combinator in ("oneOf", "anyOf"):
        branches = [
            b for b in schema.get(combinator, []) if resolve(document, b).get("type") != "null"
        ]
        if branches:
            return assemble_example(document, branches[0], depth)
    types = schema.get("type", "object")
    kind = next((t for t in types if t != "null"), "null") if isinstance(types, list) else types
    if depth > MAX_DEPTH:
        return None
    if kind == "object":
        required = schema.get("required", [])
        return {
            name: assemble_example(document, prop, depth + 1)
            for name, prop in (schema.get("properties") or {}).items()
            if name in required
        }
    if kind == "array":
        return [assemble_example(document, schema.get("items", {}), depth + 1)]
    return {"string": "string", "integer": 0, "number": 0, "boolean": False}.get(kind)
