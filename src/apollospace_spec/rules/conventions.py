"""Rules that encode the API Reference conventions on every operation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from apollospace_spec.model import Operation, resolve
from apollospace_spec.rules.registry import LintContext, Violation, rule

STATUS_TABLE = {"200", "201", "204", "400", "401", "403", "404", "409", "429", "500"}
RATE_CLASSES = {"read", "write", "billable"}
SHARED_ERROR = "#/components/schemas/Error"


def _ref(node: Any) -> str | None:
    return node.get("$ref") if isinstance(node, dict) else None


def _has_param(ctx: LintContext, op: Operation, name: str, where: str) -> dict[str, Any] | None:
    for parameter in op.parameters(ctx.document):
        if parameter["name"].lower() == name.lower() and parameter["in"] == where:
            return parameter
    return None


def _documents(op: Operation, status: str, response: str) -> bool:
    return _ref(op.responses.get(status)) == f"#/components/responses/{response}"


@rule("security-and-401", "Every operation requires the bearer token and documents 401.", "/req/auth/bearer-required")
def security_and_401(ctx: LintContext) -> Iterator[Violation]:
    schemes = (ctx.document.get("components") or {}).get("securitySchemes") or {}
    bearer = {name for name, scheme in schemes.items() if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer"}
    for op in ctx.operations():
        requirements = op.definition.get("security", ctx.document.get("security", []))
        if not requirements or not all(set(entry) & bearer for entry in requirements):
            yield Violation("security-and-401", op.location, "does not require the bearer security scheme")
        if not _documents(op, "401", "Unauthorized"):
            yield Violation("security-and-401", op.location, "does not document 401 as components/responses/Unauthorized")


@rule("organization-header", "Every operation requires X-Organization-Id (a UUID) and documents 403.", "/req/organization/header-required")
def organization_header(ctx: LintContext) -> Iterator[Violation]:
    for op in ctx.operations():
        parameter = _has_param(ctx, op, "X-Organization-Id", "header")
        if parameter is None or not parameter.get("required"):
            yield Violation("organization-header", op.location, "does not require the X-Organization-Id header")
        elif _ref(parameter.get("schema")) != "#/components/schemas/Uuid":
            yield Violation("organization-header", op.location, "X-Organization-Id is not a Uuid")
        if not _documents(op, "403", "Forbidden"):
            yield Violation("organization-header", op.location, "does not document 403 as components/responses/Forbidden")


@rule("post-idempotency-key", "Every POST takes an optional Idempotency-Key and documents 409.", "/req/idempotency/key-accepted", "/req/idempotency/retention")
def post_idempotency_key(ctx: LintContext) -> Iterator[Violation]:
    for op in ctx.operations():
        if op.method != "post":
            continue
        parameter = _has_param(ctx, op, "Idempotency-Key", "header")
        if parameter is None:
            yield Violation("post-idempotency-key", op.location, "POST without the Idempotency-Key header")
        elif parameter.get("required"):
            yield Violation("post-idempotency-key", op.location, "Idempotency-Key must be optional")
        elif "24 hours" not in str(parameter.get("description", "")):
            yield Violation("post-idempotency-key", op.location, "Idempotency-Key does not document its retention window (24 hours)")
        if not _documents(op, "409", "Conflict"):
            yield Violation("post-idempotency-key", op.location, "POST does not document 409 (idempotency conflicts)")


@rule("billable-marked", "Billable operations carry x-apollospace-billable with the retry guarantee, and only they do.", "/req/idempotency/no-double-billing")
def billable_marked(ctx: LintContext) -> Iterator[Violation]:
    for op in ctx.operations():
        billable = op.definition.get("x-apollospace-billable")
        is_billable_class = op.definition.get("x-apollospace-rate-class") == "billable"
        if is_billable_class and not (isinstance(billable, dict) and str(billable.get("retry", "")).strip()):
            yield Violation("billable-marked", op.location, "billable operation without x-apollospace-billable.retry")
        if billable is not None and (not is_billable_class or op.method != "post"):
            yield Violation("billable-marked", op.location, "x-apollospace-billable on an operation that is not a billable POST")


@rule("list-operations-paginated", "Every list takes cursor and limit and returns {items, next_cursor}.", "/req/pagination/cursor-based", "/req/pagination/next-cursor-null-at-end")
def list_operations_paginated(ctx: LintContext) -> Iterator[Violation]:
    for op in ctx.operations():
        schema = _success_schema(ctx, op)
        looks_like_page = isinstance(schema, dict) and "next_cursor" in (schema.get("properties") or {})
        if looks_like_page and not op.is_list:
            yield Violation("list-operations-paginated", op.location, "returns a page but its operationId does not start with 'list'")
        if not op.is_list:
            continue
        for name, component in (("cursor", "Cursor"), ("limit", "Limit")):
            refs = [_ref(p) for p in [*op.path_item.get("parameters", []), *op.definition.get("parameters", [])]]
            if f"#/components/parameters/{component}" not in refs:
                yield Violation("list-operations-paginated", op.location, f"list without the shared {name} parameter")
        properties = (schema or {}).get("properties") or {}
        if set((schema or {}).get("required", [])) != {"items", "next_cursor"} or set(properties) != {"items", "next_cursor"}:
            yield Violation("list-operations-paginated", op.location, "200 body is not exactly {items, next_cursor}, both required")
            continue
        if properties["items"].get("type") != "array":
            yield Violation("list-operations-paginated", op.location, "items is not an array")
        if _ref(properties["next_cursor"]) != "#/components/schemas/NextCursor":
            yield Violation("list-operations-paginated", op.location, "next_cursor is not the shared NextCursor (string or null)")


def _success_schema(ctx: LintContext, op: Operation) -> dict[str, Any] | None:
    response = resolve(ctx.document, op.responses.get("200", {}))
    schema = ((response.get("content") or {}).get("application/json") or {}).get("schema")
    return resolve(ctx.document, schema) if schema else None


@rule("errors-use-shared-error", "Every 4xx/5xx response is a shared response whose body is the Error envelope.", "/req/errors/envelope", "/req/errors/request-id-header")
def errors_use_shared_error(ctx: LintContext) -> Iterator[Violation]:
    for op in ctx.operations():
        for status, response in op.responses.items():
            if status[0] not in "45":
                continue
            ref = _ref(response)
            if not ref or not ref.startswith("#/components/responses/"):
                yield Violation("errors-use-shared-error", f"{op.location}.{status}", "error response is spelled out inline, not a shared response")
    for name, response in ((ctx.document.get("components") or {}).get("responses") or {}).items():
        content = response.get("content") or {}
        if list(content) != ["application/json"] or _ref(content["application/json"].get("schema")) != SHARED_ERROR:
            yield Violation("errors-use-shared-error", f"#/components/responses/{name}", "body is not application/json Error")
        if "X-Request-Id" not in (response.get("headers") or {}):
            yield Violation("errors-use-shared-error", f"#/components/responses/{name}", "no X-Request-Id header")
    for op in ctx.operations():
        for status, response in op.responses.items():
            if status[0] == "2" and "X-Request-Id" not in (resolve(ctx.document, response).get("headers") or {}):
                yield Violation("errors-use-shared-error", f"{op.location}.{status}", "success response without the X-Request-Id header")


@rule("status-codes-from-table", "Only the table's status codes; 201 with a body on creating POSTs; 204 without one on DELETE.", "/req/status-codes/documented-only", "/req/status-codes/created-201", "/req/status-codes/delete-204")
def status_codes_from_table(ctx: LintContext) -> Iterator[Violation]:
    for op in ctx.operations():
        codes = set(op.responses)
        for code in sorted(codes - STATUS_TABLE):
            yield Violation("status-codes-from-table", op.location, f"status {code} is not in the conventions table")
        for code in ("400", "500"):
            if code not in codes:
                yield Violation("status-codes-from-table", op.location, f"does not document {code}")
        if "{" in op.path and "404" not in codes:
            yield Violation("status-codes-from-table", op.location, "has a path id but does not document 404")
        successes = sorted(code for code in codes if code.startswith("2"))
        expected = "204" if op.method == "delete" else "201" if op.is_create else "200"
        if successes != [expected]:
            yield Violation("status-codes-from-table", op.location, f"success statuses {successes}, expected [{expected!r}]")
            continue
        content = resolve(ctx.document, op.responses[expected]).get("content")
        if expected == "204" and content:
            yield Violation("status-codes-from-table", op.location, "204 must have no body")
        if expected != "204" and not (content or {}).get("application/json", {}).get("schema"):
            yield Violation("status-codes-from-table", op.location, f"{expected} has no application/json body")


@rule("rate-limit-documented", "Every operation has a rate class and documents 429 with Retry-After.", "/req/rate-limits/429-retry-after", "/req/rate-limits/per-organization-and-type")
def rate_limit_documented(ctx: LintContext) -> Iterator[Violation]:
    for op in ctx.operations():
        if op.definition.get("x-apollospace-rate-class") not in RATE_CLASSES:
            yield Violation("rate-limit-documented", op.location, f"x-apollospace-rate-class must be one of {sorted(RATE_CLASSES)}")
        response = op.responses.get("429")
        if response is None:
            yield Violation("rate-limit-documented", op.location, "does not document 429")
            continue
        if "Retry-After" not in (resolve(ctx.document, response).get("headers") or {}):
            yield Violation("rate-limit-documented", op.location, "429 without a Retry-After header")


@rule("error-codes-declared", "Every operation lists its error codes, each with a status it documents.", "/req/errors/documented-codes")
def error_codes_declared(ctx: LintContext) -> Iterator[Violation]:
    common = ctx.document.get("x-apollospace-common-errors") or []
    common_codes = {entry.get("code") for entry in common}
    for index, entry in enumerate(common):
        if not _valid_error_entry(entry):
            yield Violation("error-codes-declared", f"#/x-apollospace-common-errors/{index}", "needs a snake_case code and a 4xx/5xx status")
    for op in ctx.operations():
        if not isinstance(op.definition.get("x-apollospace-errors"), list):
            yield Violation("error-codes-declared", op.location, "no x-apollospace-errors list")
            continue
        for entry in op.error_codes:
            if not _valid_error_entry(entry):
                yield Violation("error-codes-declared", op.location, f"malformed error entry {entry}")
            elif str(entry["status"]) not in op.responses:
                yield Violation("error-codes-declared", op.location, f"{entry['code']} has status {entry['status']}, which the operation does not document")
            elif entry["code"] in common_codes:
                yield Violation("error-codes-declared", op.location, f"{entry['code']} is a common code; do not repeat it")


def _valid_error_entry(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    code, status = entry.get("code"), entry.get("status")
    return isinstance(code, str) and code.replace("_", "").isalnum() and code == code.lower() and isinstance(status, int) and 400 <= status < 600
