"""The spec, read at start-up, as a routing table with request validators.

Nothing here knows any schema: parameter and body schemas come from the
bundled document and are validated with `apollospace_spec.validation`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from apollospace_refserver.errors import ApiError, validation_failed
from apollospace_spec import OperationRouter, bundled_spec, iter_operations
from apollospace_spec.model import resolve
from apollospace_spec.validation import SchemaValidator, describe

ALL_ROLES = ("owner", "admin", "member", "viewer")
_HANDLED_HEADERS = {"x-organization-id", "authorization"}


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    required: bool
    schema: dict[str, Any]  # top-level $ref followed: what raw strings are coerced to
    validator: Draft202012Validator


@dataclass
class OperationSpec:
    operation_id: str
    method: str
    path: str
    rate_class: str
    roles: tuple[str, ...]
    parameters: list[Parameter]
    body_validator: Draft202012Validator | None
    body_required: bool
    success_status: int
    definition: dict[str, Any] = field(repr=False)


class Contract:
    """Every operation of the spec, ready to route and validate requests."""

    def __init__(self, document: dict[str, Any] | None = None) -> None:
        self.document = document or bundled_spec()
        self.validator = SchemaValidator(self.document)
        spec_operations = list(iter_operations(self.document))
        self.router = OperationRouter(spec_operations)
        self.by_id = {op.operation_id: self._compile(op) for op in spec_operations}

    def _compile(self, op: Any) -> OperationSpec:
        parameters = []
        for raw in op.parameters(self.document):
            schema = raw.get("schema", {})
            parameters.append(
                Parameter(raw["name"], raw["in"], bool(raw.get("required")), resolve(self.document, schema), self.validator.for_schema(schema))
            )
        body = resolve(self.document, op.definition.get("requestBody")) if op.definition.get("requestBody") else None
        body_schema = ((body or {}).get("content") or {}).get("application/json", {}).get("schema")
        success = min(int(code) for code in op.responses if code.startswith("2"))
        return OperationSpec(
            operation_id=op.operation_id,
            method=op.method.upper(),
            path=op.path,
            rate_class=op.definition.get("x-apollospace-rate-class", "read"),
            roles=tuple(op.definition.get("x-apollospace-roles", ALL_ROLES)),
            parameters=parameters,
            body_validator=self.validator.for_schema(body_schema) if body_schema else None,
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
) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """Typed path and query parameters and the parsed body, or a 400 ApiError."""
    values: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}}
    known_query = {p.name for p in op.parameters if p.location == "query"}
    for name, _ in query:
        if name not in known_query:
            raise validation_failed(f"Unknown query parameter '{name}'.")
    query_names = [name for name, _ in query]
    for parameter in op.parameters:
        if parameter.location == "path":
            raw: str | None = path_params.get(parameter.name)
        elif parameter.location == "query":
            if query_names.count(parameter.name) > 1:
                raise validation_failed(f"Query parameter '{parameter.name}' is repeated.")
            raw = next((v for k, v in query if k == parameter.name), None)
        elif parameter.location == "header":
            if parameter.name.lower() in _HANDLED_HEADERS:
                continue
            raw = headers.get(parameter.name.lower())
        else:
            continue
        if raw is None:
            if parameter.required:
                raise validation_failed(f"Missing required {parameter.location} parameter '{parameter.name}'.")
            continue
        value = _coerce(raw, parameter.schema)
        error = next(parameter.validator.iter_errors(value), None)
        if error is not None:
            raise validation_failed(f"Invalid {parameter.location} parameter '{parameter.name}': {error.message[:200]}")
        values[parameter.location][parameter.name] = value
    body: Any = None
    if body_bytes.strip():
        if op.body_validator is None:
            raise validation_failed("This operation takes no request body.")
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise validation_failed("The request body must be application/json.")
        try:
            body = json.loads(body_bytes)
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApiError(400, "malformed_json", "The request body is not valid JSON.") from exc
        error = next(op.body_validator.iter_errors(body), None)
        if error is not None:
            raise validation_failed(f"Invalid body: {describe(error)}")
    elif op.body_required:
        raise validation_failed("A JSON request body is required.")
    return values["path"], values["query"], body
