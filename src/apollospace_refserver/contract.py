"""The spec, read at start-up, as a routing table with request validators.

Nothing here knows any schema: parameter and body schemas come from the
bundled document and are validated with `apollospace_spec.validation`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, unquote_to_bytes

from apollospace_refserver.errors import ApiError, validation_failed
from apollospace_refserver.fast_validation import FastValidator, document_formats
from apollospace_refserver.schema_inline import inline_refs
from apollospace_spec import OperationRouter, bundled_spec, iter_operations
from apollospace_spec.model import resolve
from apollospace_spec.validation import SchemaValidator, describe

ALL_ROLES = ("owner", "admin", "member", "viewer")
_HANDLED_HEADERS = {"x-organization-id", "authorization"}
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Limits:
    """The request size limits the spec documents (`x-apollospace-limits`)."""

    body_bytes: int = 1024 * 1024
    head_bytes: int = 16 * 1024
    json_depth: int = 64

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Limits:
        declared = document.get("x-apollospace-limits") or {}
        defaults = cls()
        return cls(
            body_bytes=int(declared.get("request-body-bytes", defaults.body_bytes)),
            head_bytes=int(declared.get("request-head-bytes", defaults.head_bytes)),
            json_depth=int(declared.get("json-depth", defaults.json_depth)),
        )


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    required: bool
    schema: dict[str, Any]  # top-level $ref followed: what raw strings are coerced to
    validator: FastValidator = field(repr=False)  # python's validator behind a compiled first verdict (fast_validation.py)


@dataclass
class OperationSpec:
    operation_id: str
    method: str
    path: str
    rate_class: str
    roles: tuple[str, ...]
    parameters: list[Parameter]
    body_validator: FastValidator | None
    body_required: bool
    success_status: int
    definition: dict[str, Any] = field(repr=False)


class Contract:
    """Every operation of the spec, ready to route and validate requests."""

    def __init__(self, document: dict[str, Any] | None = None) -> None:
        self.document = document or bundled_spec()
        self.validator = SchemaValidator(self.document)
        self.limits = Limits.from_document(self.document)
        self.formats = document_formats(self.document)
        spec_operations = list(iter_operations(self.document))
        self.router = OperationRouter(spec_operations)
        self.by_id = {op.operation_id: self._compile(op) for op in spec_operations}

    def _compile(self, op: Any) -> OperationSpec:
        parameters = []
        for raw in op.parameters(self.document):
            schema = raw.get("schema", {})
            validator = FastValidator.build(self.validator.for_schema(schema), inline_refs(self.document, schema), self.formats)
            parameters.append(Parameter(raw["name"], raw["in"], bool(raw.get("required")), resolve(self.document, schema), validator))
        body = resolve(self.document, op.definition.get("requestBody")) if op.definition.get("requestBody") else None
        body_schema = ((body or {}).get("content") or {}).get("application/json", {}).get("schema")
        success = min(int(code) for code in op.responses if code.startswith("2"))
        # refs inlined: twice as fast per request (schema_inline.py)
        inlined = inline_refs(self.document, body_schema) if body_schema else None
        return OperationSpec(
            operation_id=op.operation_id,
            method=op.method.upper(),
            path=op.path,
            rate_class=op.definition.get("x-apollospace-rate-class", "read"),
            roles=tuple(op.definition.get("x-apollospace-roles", ALL_ROLES)),
            parameters=parameters,
            body_validator=FastValidator.build(self.validator.for_schema(inlined), inlined, self.formats) if inlined is not None else None,
            body_required=bool((body or {}).get("required")),
            success_status=success,
            definition=op.definition,
        )

    def route(self, method: str, path: str) -> tuple[OperationSpec, dict[str, str]] | list[str]:
        """The operation and path parameters, or the allowed methods when only the method is wrong."""
        found = self.router.find(method, path)
        if isinstance(found, list):
            return found
        operation, params = found
        return self.by_id[operation.operation_id], params

    def allowed_methods(self, full_path: str) -> list[str]:
        """The methods a full request path (`/v1/...`) allows; [] for a path no operation has."""
        if not full_path.startswith("/v1/"):
            return []
        found = self.router.find("", full_path[len("/v1"):])
        return sorted(set(found)) if isinstance(found, list) else []


def _coerce(raw: str, schema: dict[str, Any]) -> Any:
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "integer" in kinds and re.fullmatch(r"[+-]?\d{1,30}", raw):
        return int(raw)
    if "number" in kinds:
        try:
            return float(raw)
        except ValueError:
            return raw
    if "boolean" in kinds and raw in ("true", "false"):
        return raw == "true"
    return raw


def validate_request(
    op: OperationSpec,
    path_params: dict[str, str],
    query: list[tuple[str, str]],
    headers: dict[str, str],
    body_bytes: bytes,
    content_type: str,
    limits: Limits = Limits(),
) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """Typed path and query parameters and the parsed body, or a 400 ApiError."""
    values: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}}
    known_query = {p.name for p in op.parameters if p.location == "query"}
    for name, _ in query:
        if name not in known_query:
            raise validation_failed(f"Unknown query parameter '{name}'.", _detail("query", [name], "unknown parameter"))
    query_names = [name for name, _ in query]
    for parameter in op.parameters:
        if parameter.location == "path":
            raw: str | None = path_params.get(parameter.name)
        elif parameter.location == "query":
            if query_names.count(parameter.name) > 1:
                raise validation_failed(f"Query parameter '{parameter.name}' is repeated.", _detail("query", [parameter.name], "repeated"))
            raw = next((v for k, v in query if k == parameter.name), None)
        elif parameter.location == "header":
            if parameter.name.lower() in _HANDLED_HEADERS:
                continue
            raw = headers.get(parameter.name.lower())
        else:
            continue
        if raw is None:
            if parameter.required:
                raise validation_failed(
                    f"Missing required {parameter.location} parameter '{parameter.name}'.", _detail(parameter.location, [parameter.name], "required")
                )
            continue
        value = _coerce(raw, parameter.schema)
        error = parameter.validator.first_error(value)
        if error is not None:
            raise validation_failed(
                f"Invalid {parameter.location} parameter '{parameter.name}': {error.message[:200]}",
                _detail(parameter.location, [parameter.name], error.message),
            )
        values[parameter.location][parameter.name] = value
    body: Any = None
    if body_bytes.strip():
        if op.body_validator is None:
            raise validation_failed("This operation takes no request body.")
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise validation_failed("The request body must be application/json.")
        body = parse_json(body_bytes, limits.json_depth)
        error = op.body_validator.first_error(body)
        if error is not None:
            raise validation_failed(f"Invalid body: {describe(error)}", _detail("body", _error_path(error), error.message))
    elif op.body_required:
        raise validation_failed("A JSON request body is required.")
    return values["path"], values["query"], body


def check_query_encoding(raw_query: bytes) -> None:
    """400 when a percent-encoded query name or value is not UTF-8 (it would otherwise arrive as U+FFFD)."""
    if b"%" not in raw_query:
        return
    for pair in raw_query.split(b"&"):
        name, _, value = pair.partition(b"=")
        for part in (name, value):
            try:
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                shown = unquote_plus(name.decode("latin-1"), errors="replace")  # as a client's parse_qsl names it
                raise validation_failed(f"Query parameter '{shown[:100]}' is not UTF-8 once percent-decoded.", _detail("query", [shown], "not UTF-8")) from None


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number out of range: {text[:40]}")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(body_bytes: bytes, max_depth: int) -> Any:
    """The body as JSON (RFC 8259: UTF-8, finite numbers), or a 400 ApiError.

    Refused at the edge, before any handler sees them: bytes that are not
    UTF-8, `NaN`/`Infinity`, numbers out of float range, nesting deeper than
    `max_depth`, and strings holding a lone UTF-16 surrogate (`"\\ud800"`),
    which no UTF-8 store or client can carry.
    """
    try:
        text = body_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "malformed_json", "The request body is not UTF-8.") from exc
    try:
        body = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except RecursionError as exc:
        raise validation_failed(
            f"The JSON body is nested deeper than {max_depth} levels (the limit).", _detail("body", [], f"deeper than {max_depth} levels")
        ) from exc
    except ValueError as exc:
        raise ApiError(400, "malformed_json", "The request body is not valid JSON.") from exc
    problem = _check_tree(body, max_depth, "\\u" in text)
    if problem is not None:
        where, reason = problem
        message = f"The JSON body is nested deeper than {max_depth} levels (the limit)." if reason.startswith("deeper") else "The JSON body holds a string with a lone UTF-16 surrogate (invalid Unicode)."
        raise validation_failed(message, _detail("body", where, reason))
    return body


def _check_tree(root: Any, max_depth: int, escapes: bool) -> tuple[list[str | int], str] | None:
    """Where the tree first goes deeper than `max_depth` or holds a lone surrogate, and why; None when fine.

    Iterative, so a deep tree cannot exhaust the stack; surrogates are only
    possible when the text had `\\u` escapes.
    """
    stack: list[tuple[Any, int, tuple[str | int, ...]]] = [(root, 1, ())]
    while stack:
        node, depth, where = stack.pop()
        if isinstance(node, dict):
            if depth > max_depth:
                return list(where), f"deeper than {max_depth} levels"
            for key, value in node.items():
                if escapes and _SURROGATE.search(key):
                    # The pointer names the object holding the key: a pointer carrying the surrogate could not be written back.
                    return list(where), "lone UTF-16 surrogate in a member name"
                if isinstance(value, (dict, list)) or (escapes and isinstance(value, str)):
                    stack.append((value, depth + 1, (*where, key)))
        elif isinstance(node, list):
            if depth > max_depth:
                return list(where), f"deeper than {max_depth} levels"
            for index, value in enumerate(node):
                if isinstance(value, (dict, list)) or (escapes and isinstance(value, str)):
                    stack.append((value, depth + 1, (*where, index)))
        elif isinstance(node, str) and _SURROGATE.search(node):
            return list(where), "lone UTF-16 surrogate"
    return None


def json_pointer(parts: list[Any]) -> str:
    """RFC 6901: `["rows", 3, "email"]` -> `/rows/3/email`."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _error_path(error: Any) -> list[Any]:
    """Where a schema error is in the body; a missing required member is pointed at by its name."""
    parts = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:
            parts.append(missing[0])
    return parts


def _detail(where: str, parts: list[Any], reason: str) -> dict[str, str]:
    """One `error.details` item (spec: ErrorDetail); a pointer past its 1,000 characters points at an ancestor."""
    pointer = json_pointer(parts)
    while len(pointer) > 1000:
        parts = parts[:-1]
        pointer = json_pointer(parts)
    return {"in": where, "pointer": pointer, "reason": reason[:200] or "invalid"}
