"""The variables an example reads: one per path parameter, and one per id in its body.

A request example sends the spec's request example as its body, with every id
in it (`pipeline_id`, `stage_ids`, ...) replaced by a variable named after its
field, so the same example runs against any server once the variables are set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from apollospace_docs.text import one_line
from apollospace_spec.model import resolve

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
HEADER_VARIABLES = {"x-organization-id": "APOLLOSPACE_ORG"}


@dataclass(frozen=True)
class Variable:
    """A shell variable an example reads, and what to put in it."""

    name: str
    description: str


def heredoc_escape(text: str) -> str:
    """Text safe inside an unquoted heredoc: only our `$VARIABLES` expand."""
    return text.replace("\\", "\\\\").replace("$", "\\$").replace("`", "\\`")


class BodyVariables:
    """Replaces the ids of a request example with variables, naming each after its field."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.by_value: dict[tuple[str, str], str] = {}
        self.variables: dict[str, Variable] = {}

    def substitute(self, value: Any, raw: dict[str, Any], key: str = "", where: str = "") -> Any:
        schema = self._unwrap(raw)
        if isinstance(value, dict):
            properties = schema.get("properties") or {}
            return {
                name: self.substitute(
                    item, properties.get(name, {}), name, f"{where}.{name}" if where else name
                )
                for name, item in value.items()
            }
        if isinstance(value, list):
            items = schema.get("items", {})
            if (
                key.endswith("_ids")
                and value
                and all(isinstance(v, str) and _UUID.match(v) for v in value)
            ):
                base = key[: -len("_ids")].upper() + "_ID"
                return [
                    self._variable(
                        f"{base}_{index}",
                        (key, v),
                        f"`{where}[{index - 1}]`",
                        self._description(items),
                    )
                    for index, v in enumerate(value, start=1)
                ]
            return [self.substitute(v, items, key, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, str) and key.endswith("_id") and _UUID.match(value):
            known = self.by_value.get((key, value))
            if known:
                return known
            base = key.upper()
            taken = sum(1 for k, _ in self.by_value if k == key)
            name = base if taken == 0 else f"{base}_{taken + 1}"
            return self._variable(name, (key, value), f"`{where}`", self._description(raw))
        return value

    def _description(self, raw: dict[str, Any]) -> str:
        """A field's own description, or its schema's unless that is a bare format (Uuid)."""
        if raw.get("description"):
            return str(raw["description"])
        target = self._unwrap(raw)
        return "" if "format" in target else str(target.get("description", ""))

    def _variable(self, name: str, identity: tuple[str, str], where: str, description: str) -> str:
        if name in self.variables:
            raise ValueError(f"two ids of a request example would share the variable ${name}")
        placeholder = f"@@{name}@@"
        self.by_value[identity] = placeholder
        text = f"Sent as {where} in the body." + (
            f" {one_line(description)}" if description else ""
        )
        self.variables[name] = Variable(name, text)
        return placeholder

    def _unwrap(self, schema: dict[str, Any]) -> dict[str, Any]:
        schema = resolve(self.document, schema)
        for combinator in ("oneOf", "anyOf"):
            branches = [resolve(self.document, b) for b in schema.get(combinator, [])]
            non_null = [b for b in branches if b.get("type") != "null"]
            if len(non_null) == 1:
                schema = non_null[0]
        return schema
