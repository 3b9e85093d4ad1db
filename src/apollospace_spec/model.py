"""A thin, typed view of the operations of a bundled document."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

HTTP_METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")


@dataclass(frozen=True)
class Operation:
    """One operation: where it lives and its raw (bundled) definition."""

    path: str
    method: str
    definition: dict[str, Any]
    path_item: dict[str, Any]
    is_event: bool = False

    @property
    def operation_id(self) -> str:
        return str(self.definition.get("operationId", f"{self.method} {self.path}"))

    @property
    def location(self) -> str:
        kind = "webhooks" if self.is_event else "paths"
        return f"{kind}.{self.path}.{self.method}"

    @property
    def responses(self) -> dict[str, Any]:
        return dict(self.definition.get("responses", {}))

    @property
    def is_list(self) -> bool:
        return self.method == "get" and self.operation_id.startswith("list")

    @property
    def is_action(self) -> bool:
        return bool(self.definition.get("x-apollospace-action"))

    @property
    def is_create(self) -> bool:
        return self.method == "post" and not self.is_action

    @property
    def requirement_ids(self) -> list[str]:
        return list(self.definition.get("x-apollospace-requirements", []))

    @property
    def error_codes(self) -> list[dict[str, Any]]:
        return list(self.definition.get("x-apollospace-errors", []))

    def parameters(self, document: dict[str, Any]) -> list[dict[str, Any]]:
        """Path-item and operation parameters, refs resolved, operation ones winning."""
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for raw in [*self.path_item.get("parameters", []), *self.definition.get("parameters", [])]:
            parameter = resolve(document, raw)
            merged[(parameter["name"].lower(), parameter["in"])] = parameter
        return list(merged.values())


def resolve(document: dict[str, Any], node: Any) -> Any:
    """Follow local `$ref`s until a node that is not a reference."""
    seen = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if ref in seen or not ref.startswith("#/"):
            raise KeyError(f"unresolvable $ref {ref}")
        seen.add(ref)
        target: Any = document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target[part]
        node = target
    return node


NO_DECLARED_VALUE: Any = object()


def declared_value(schema: dict[str, Any]) -> Any:
    """The value a schema names itself: its first example, example, const, first enum member or default.

    NO_DECLARED_VALUE when it names none (None is a value a schema may name).
    """
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    for key in ("example", "const"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    return schema.get("default", NO_DECLARED_VALUE)


def iter_operations(document: dict[str, Any], *, events: bool = False) -> Iterator[Operation]:
    """Every operation of `paths` (and of `webhooks` when `events` is true)."""
    sections = [("paths", False)] + ([("webhooks", True)] if events else [])
    for section, is_event in sections:
        for path, path_item in (document.get(section) or {}).items():
            for method in HTTP_METHODS:
                if method in path_item:
                    yield Operation(path, method, path_item[method], path_item, is_event)


def walk(node: Any, pointer: str = "#") -> Iterator[tuple[str, Any]]:
    """Every dict and list under `node`, depth first, with its JSON pointer."""
    yield pointer, node
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict | list):
                escaped = str(key).replace("~", "~0").replace("/", "~1")
                yield from walk(value, f"{pointer}/{escaped}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, dict | list):
                yield from walk(value, f"{pointer}/{index}")


def path_pattern(template: str) -> re.Pattern[str]:
    """A regex matching concrete paths of an OpenAPI path template, one named group per parameter."""
    parts = re.split(r"(\{[A-Za-z_][A-Za-z0-9_]*\})", template)
    return re.compile("".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts))


class OperationRouter:
    """Finds the operation of a method and a concrete path (without the server prefix)."""

    def __init__(self, operations: list[Operation]) -> None:
        # Concrete segments win over templated ones (/lead-imports before /leads/{lead_id}).
        ordered = sorted(operations, key=lambda op: op.path.count("{"))
        self._routes = [(path_pattern(op.path), op) for op in ordered]

    def find(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | list[str]:
        """The operation and its path parameters, or the methods the path does allow."""
        allowed: list[str] = []
        for pattern, op in self._routes:
            found = pattern.fullmatch(path)
            if found is None:
                continue
            if op.method.upper() == method.upper():
                return op, found.groupdict()
            allowed.append(op.method.upper())
        return allowed
