"""A request schema with its local `$ref`s replaced by what they point to, for faster validation.

Profiling createLead under wrk (bench/README.md) showed a quarter of its CPU
in body validation, much of it jsonschema following `$ref`s through the
`referencing` registry on every request. The same schema with its references
inlined validates the same instances about twice as fast. This is not a copy
of any schema: it is computed from the bundled document at start-up.

A `$ref` beside other keywords becomes `allOf: [target]` beside them (in 2020-12
both apply, in place, as with allOf); a reference met again inside its own
expansion (a recursive schema) is left as `$ref`, which the validator resolves
through the document as before.
"""

from __future__ import annotations

from typing import Any


def _pointer(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def inline_refs(document: dict[str, Any], schema: Any, _expanding: tuple[str, ...] = ()) -> Any:
    """`schema` with every local `$ref` ("#/...") replaced by its target, recursively."""
    if isinstance(schema, list):
        return [inline_refs(document, item, _expanding) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if not (isinstance(ref, str) and ref.startswith("#/")) or ref in _expanding:
        return {key: inline_refs(document, value, _expanding) for key, value in schema.items()}
    target = inline_refs(document, _pointer(document, ref), (*_expanding, ref))
    siblings = {key: inline_refs(document, value, _expanding) for key, value in schema.items() if key != "$ref"}
    return {"allOf": [target], **siblings} if siblings else target
