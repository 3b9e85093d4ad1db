"""What a response check sees: the documented operation and one observed response."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

from jsonschema import Draft202012Validator

from apollospace_spec import OperationRouter, bundled_spec, iter_operations
from apollospace_spec.model import Operation, resolve
from apollospace_spec.validation import SchemaValidator


class SpecIndex:
    """The bundled spec, indexed for checks: operations by path, documented codes, patterns."""

    def __init__(self, document: dict[str, Any] | None = None) -> None:
        self.document = document or bundled_spec()
        self.operations = list(iter_operations(self.document))
        self.router = OperationRouter(self.operations)
        self.validator = SchemaValidator(self.document)
        schemas = self.document["components"]["schemas"]
        self.uuid_pattern: str = schemas["Uuid"]["pattern"]
        self.timestamp_pattern: str = schemas["Timestamp"]["pattern"]
        self.date_pattern: str = schemas["Date"]["pattern"]
        self.common_errors = {(e["code"], int(e["status"])) for e in self.document.get("x-apollospace-common-errors", [])}
        self.server_path = urlparse(self.document["servers"][0]["url"]).path.rstrip("/")

    def find(self, method: str, url: str, base_url: str) -> Operation | None:
        path = urlparse(url).path
        prefix = urlparse(base_url).path.rstrip("/")
        if prefix and path.startswith(prefix):
            path = path[len(prefix):]
        found = self.router.find(method, path)
        return None if isinstance(found, list) else found[0]

    def documented_errors(self, operation: Operation) -> set[tuple[str, int]]:
        return self.common_errors | {(e["code"], int(e["status"])) for e in operation.error_codes}

    @functools.lru_cache(maxsize=512)  # noqa: B019  one index per run
    def response_validator(self, operation_id: str, status: str) -> Draft202012Validator | None:
        operation = next(op for op in self.operations if op.operation_id == operation_id)
        response = operation.responses.get(status)
        if response is None:
            return None
        schema = ((resolve(self.document, response).get("content") or {}).get("application/json") or {}).get("schema")
        return self.validator.for_schema(schema) if schema else None


@dataclass
class ResponseContext:
    """One observed response to a documented operation."""

    spec: SpecIndex
    operation: Operation
    method: str
    url: str
    status: int
    headers: dict[str, str]  # lower-case names
    body: Any
    raw_body: bytes
    negative: bool = False  # the request was deliberately invalid
    reproduction: Any = None  # something with .curl(), for reports

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlparse(self.url).query)

    @property
    def is_error(self) -> bool:
        return self.status >= 400
