"""Compare two JSON Schemas in one direction: what a client sends (request) or receives (response).

Both sides are normalised first, so refactors vanish: `$ref`s are followed,
`allOf` is merged into one schema, single-branch `anyOf`/`oneOf` are unwrapped
and `anyOf: [X, {type: 'null'}]` reads as X that may be null. Then each keyword
is compared: a request schema may only widen (accept more), a response schema
may only narrow (promise more).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from apollospace_spec.compat import patterns
from apollospace_spec.compat.changes import Change, Promise
from apollospace_spec.compat.deprecation import deprecation_of, sunset_passed
from apollospace_spec.model import resolve

Direction = Literal["request", "response"]
_LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")
_UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
_ANY = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})


def escape(token: str) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


@dataclass
class SchemaDiff:
    base: dict[str, Any]
    head: dict[str, Any]
    operation: str
    today: dt.date
    seen: set[tuple[int, int, str]] = field(default_factory=set)
    # What each direction is called in messages: a webhook's "response" side is the payload the client receives.
    words: dict[str, str] = field(default_factory=lambda: {"request": "request", "response": "response"})

    def change(self, kind: str, pointer: str, reason: str, breaking: bool, promise: Promise | None = None, *, deprecation: bool = False) -> Change:
        return Change(kind, self.operation, pointer, reason, breaking, promise if breaking else None, deprecation)

    def _what(self, direction: Direction) -> str:
        return f"{self.words[direction]} value"

    # --- normalisation -----------------------------------------------------------------------
    def normalise(self, document: dict[str, Any], node: Any) -> dict[str, Any]:
        if isinstance(node, dict) and isinstance(node.get("$ref"), str):
            # OpenAPI 3.1 keeps a $ref's siblings (deprecated, x-apollospace-deprecation, ...): they win over the target.
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            target = self.normalise(document, resolve(document, {"$ref": node["$ref"]}))
            return {**target, **siblings} if siblings else target
        node = resolve(document, node)
        if not isinstance(node, dict):
            return {} if node is True or node is None else {"not": {}}
        merged = {k: v for k, v in node.items() if k not in ("allOf", "$ref")}
        for part in node.get("allOf") or []:
            merged = _merge(merged, self.normalise(document, part))
        for key in ("anyOf", "oneOf"):
            branches = merged.get(key)
            if not isinstance(branches, list):
                continue
            resolved = [self.normalise(document, b) for b in branches]
            non_null = [b for b in resolved if _types(b) != {"null"}]
            nullable = len(non_null) < len(resolved)
            if len(non_null) == 1:
                del merged[key]
                inner = non_null[0]
                merged = _merge(merged, inner)
                if nullable:
                    merged["type"] = sorted(_types(inner) | {"null"})
                    if "enum" in merged and None not in merged["enum"]:
                        merged["enum"] = [*merged["enum"], None]
            elif nullable:
                merged[key] = non_null
                merged["type"] = sorted((_types(merged) if "type" in merged else _ANY) | {"null"})
        return merged

    # --- comparison --------------------------------------------------------------------------
    def compare(self, base_node: Any, head_node: Any, direction: Direction, pointer: str) -> Iterator[Change]:
        base = self.normalise(self.base, base_node)
        head = self.normalise(self.head, head_node)
        key = (id(resolve(self.base, base_node)), id(resolve(self.head, head_node)), direction)
        if key in self.seen:  # a recursive schema: compared once
            return
        self.seen.add(key)
        promise = Promise.REQUESTS if direction == "request" else Promise.RESPONSES
        yield from self._types(base, head, direction, pointer, promise)
        yield from self._enum(base, head, direction, pointer, promise)
        yield from self._format_and_pattern(base, head, direction, pointer, promise)
        yield from self._bounds(base, head, direction, pointer, promise)
        yield from self._default(base, head, direction, pointer, promise)
        yield from self._deprecation(base, head, pointer)
        yield from self._properties(base, head, direction, pointer, promise)
        if isinstance(base.get("items"), dict) and isinstance(head.get("items"), dict):
            yield from self.compare(base["items"], head["items"], direction, f"{pointer}/items")
        if isinstance(base.get("additionalProperties"), dict) and isinstance(head.get("additionalProperties"), dict):
            yield from self.compare(base["additionalProperties"], head["additionalProperties"], direction, f"{pointer}/additionalProperties")
        yield from self._branches(base, head, direction, pointer, promise)

    def _types(self, base: dict[str, Any], head: dict[str, Any], direction: Direction, pointer: str, promise: Promise) -> Iterator[Change]:
        old, new = _types(base), _types(head)
        if old == new:
            return
        gained, lost = _widen(new) - _widen(old), _widen(old) - _widen(new)
        if gained == {"null"} and not lost:
            yield self.change("nullable", f"{pointer}/type", f"{self._what(direction)} may now be null", direction == "response", promise)
        elif lost == {"null"} and not gained:
            yield self.change("not-nullable", f"{pointer}/type", f"{self._what(direction)} may no longer be null", direction == "request", promise)
        elif gained or lost:
            # Only gained: wider (breaks responses). Only lost: narrower (breaks requests). Both: breaks either.
            breaking = bool(gained and lost) or (direction == "response" if gained else direction == "request")
            yield self.change("type", f"{pointer}/type", f"{self._what(direction)} type {_show(old)} -> {_show(new)}", breaking, promise)

    def _enum(self, base: dict[str, Any], head: dict[str, Any], direction: Direction, pointer: str, promise: Promise) -> Iterator[Change]:
        old, new = _values(base), _values(head)
        if old == new:
            return
        where = f"{pointer}/enum"
        if old is not None and new is not None:
            added, removed = [v for v in new if v not in old], [v for v in old if v not in new]
            if added:
                breaking = direction == "response"
                reason = f"{self._what(direction)} gains value(s) {_list(added)}" + (": clients may not handle them" if breaking else "")
                yield self.change("enum-value-added", where, reason, breaking, promise)
            if removed:
                breaking = direction == "request"
                reason = f"{self._what(direction)} loses value(s) {_list(removed)}" + (": requests sending them are refused" if breaking else "")
                yield self.change("enum-value-removed", where, reason, breaking, promise)
        elif new is not None:
            yield self.change("enum-added", where, f"{self._what(direction)} restricted to {_list(new)}", direction == "request", promise)
        else:
            yield self.change("enum-removed", where, f"{self._what(direction)} no longer restricted to {_list(old or [])}", direction == "response", promise)

    def _format_and_pattern(self, base: dict[str, Any], head: dict[str, Any], direction: Direction, pointer: str, promise: Promise) -> Iterator[Change]:
        old, new = base.get("format"), head.get("format")
        if old != new:
            if old is None:
                tightened: bool | None = True
            elif new is None:
                tightened = False
            else:
                tightened = None
            yield from self._tightening("format", f"{pointer}/format", f"format {old or '(none)'} -> {new or '(none)'}", tightened, direction, promise)
        old, new = base.get("pattern"), head.get("pattern")
        if old == new:
            return
        if old is None or new is None:
            tightened = old is None
        else:
            found = patterns.relation(old, new)
            if found == "equivalent":
                return
            tightened = {"tightened": True, "loosened": False}.get(found)
        verb = {True: "tightened", False: "loosened", None: "changed"}[tightened]
        yield from self._tightening("pattern", f"{pointer}/pattern", f"pattern {verb}: {old or '(none)'} -> {new or '(none)'}", tightened, direction, promise)

    def _tightening(self, kind: str, pointer: str, what: str, tightened: bool | None, direction: Direction, promise: Promise) -> Iterator[Change]:
        """`tightened`: True (fewer values valid), False (more), None (neither contains the other)."""
        if tightened is None:
            breaking = True
        else:
            breaking = tightened == (direction == "request")
        consequence = ""
        if breaking:
            consequence = ": requests valid on /v1 may be refused" if direction == "request" else ": responses may carry values /v1 excluded"
        yield self.change(kind, pointer, f"{self._what(direction)} {what}{consequence}", breaking, promise)

    def _bounds(self, base: dict[str, Any], head: dict[str, Any], direction: Direction, pointer: str, promise: Promise) -> Iterator[Change]:
        for keyword in (*_LOWER_BOUNDS, *_UPPER_BOUNDS, "multipleOf", "uniqueItems"):
            old, new = base.get(keyword), head.get(keyword)
            if old == new or isinstance(old, bool) and isinstance(new, bool) and keyword != "uniqueItems":
                continue
            if keyword in _LOWER_BOUNDS:
                tightened: bool | None = old is None or (new is not None and new > old)
            elif keyword in _UPPER_BOUNDS:
                tightened = old is None or (new is not None and new < old)
            elif keyword == "uniqueItems":
                tightened = bool(new)
            else:
                tightened = True if old is None else False if new is None else (new % old == 0) or None
            yield from self._tightening(keyword, f"{pointer}/{keyword}", f"{keyword} {_show(old)} -> {_show(new)}", tightened, direction, promise)

    def _default(self, base: dict[str, Any], head: dict[str, Any], direction: Direction, pointer: str, promise: Promise) -> Iterator[Change]:
        if "default" not in base and "default" not in head or base.get("default") == head.get("default"):
            return
        breaking = direction == "request" and "default" in base
        reason = f"{self._what(direction)} default {_show(base.get('default'))} -> {_show(head.get('default'))}"
        if breaking:
            reason += ": requests that omit it now mean something else"
        yield self.change("default", f"{pointer}/default", reason, breaking, promise)

    def _deprecation(self, base: dict[str, Any], head: dict[str, Any], pointer: str) -> Iterator[Change]:
        if head.get("deprecated") is True and base.get("deprecated") is not True:
            found = deprecation_of(head)
            when = f" (announced {found.announced}, sunset {found.sunset})" if found else ""
            yield self.change("deprecated", pointer, f"deprecated{when}", False, deprecation=True)

    def _properties(self, base: dict[str, Any], head: dict[str, Any], direction: Direction, pointer: str, promise: Promise) -> Iterator[Change]:
        old, new = base.get("properties") or {}, head.get("properties") or {}
        old_required, new_required = set(base.get("required") or []), set(head.get("required") or [])
        for name in [*old, *(n for n in new if n not in old)]:
            where = f"{pointer}/properties/{escape(name)}"
            if name not in new:
                if sunset_passed(self.normalise(self.base, old[name]), self.today):
                    yield self.change("property-removed-after-sunset", where, f"{self.words[direction]} field '{name}' removed after its sunset", False)
                elif direction == "response":
                    yield self.change("property-removed", where, f"response field '{name}' removed: clients reading it break", True, promise)
                elif head.get("additionalProperties") is False or name in old_required:
                    yield self.change("property-removed", where, f"request field '{name}' removed: requests sending it are refused", True, promise)
                else:
                    yield self.change("property-removed", where, f"request field '{name}' removed (now ignored)", False)
                continue
            if name not in old:
                if direction == "request" and name in new_required:
                    yield self.change("required-property-added", where, f"new required request field '{name}': requests without it are refused", True, promise)
                else:
                    yield self.change("property-added", where, f"new {'optional ' if direction == 'request' else ''}{self.words[direction]} field '{name}'", False)
                continue
            if name in new_required and name not in old_required:
                breaking = direction == "request"
                reason = f"{self.words[direction]} field '{name}' becomes required" + (": requests without it are refused" if breaking else "")
                yield self.change("property-required", f"{pointer}/required", reason, breaking, promise)
            elif name in old_required and name not in new_required:
                breaking = direction == "response"
                reason = f"{self.words[direction]} field '{name}' becomes optional" + (": clients reading it may find it missing" if breaking else "")
                yield self.change("property-optional", f"{pointer}/required", reason, breaking, promise)
            yield from self.compare(old[name], new[name], direction, where)
        if direction == "request" and head.get("additionalProperties") is False and base.get("additionalProperties") is not False:
            yield self.change("additional-properties", f"{pointer}/additionalProperties", "request object no longer accepts unknown fields", True, promise)

    def _branches(self, base: dict[str, Any], head: dict[str, Any], direction: Direction, pointer: str, promise: Promise) -> Iterator[Change]:
        for key in ("anyOf", "oneOf"):
            old, new = base.get(key) or [], head.get(key) or []
            for index in range(min(len(old), len(new))):
                yield from self.compare(old[index], new[index], direction, f"{pointer}/{key}/{index}")
            if len(new) > len(old):
                breaking = direction == "response"
                yield self.change("variant-added", f"{pointer}/{key}", f"{self._what(direction)} gains {len(new) - len(old)} {key} variant(s)", breaking, promise)
            elif len(old) > len(new):
                breaking = direction == "request"
                yield self.change("variant-removed", f"{pointer}/{key}", f"{self._what(direction)} loses {len(old) - len(new)} {key} variant(s)", breaking, promise)


def _merge(into: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    merged = dict(into)
    for key, value in part.items():
        if key == "properties":
            merged["properties"] = {**(merged.get("properties") or {}), **value}
        elif key == "required":
            merged["required"] = sorted(set(merged.get("required") or []) | set(value))
        elif key not in merged:
            merged[key] = value
    return merged


def _types(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type")
    if declared is None:
        if "enum" in schema or "const" in schema:
            values = _values(schema) or []
            return {_json_type(v) for v in values}
        return set(_ANY)
    return set(declared) if isinstance(declared, list) else {declared}


def _widen(types: set[str]) -> set[str]:
    """`number` includes `integer`: read it as both."""
    return types | ({"integer"} if "number" in types else set())


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), "string")


def _values(schema: dict[str, Any]) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    enum = schema.get("enum")
    return list(enum) if isinstance(enum, list) else None




def _show(value: Any) -> str:
    if isinstance(value, set):
        return "|".join(sorted(value))
    return "(none)" if value is None else str(value)


def _list(values: list[Any]) -> str:
    return ", ".join(repr(v) if v is not None else "null" for v in values)
