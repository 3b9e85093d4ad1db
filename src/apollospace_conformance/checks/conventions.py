"""The conventions of the API Reference, checked on every observed response.

Each check owns one requirement, so a server that breaks one convention fails
exactly one check. Schema-shaped rules (UTC timestamps, v4 ids, dates) read the
patterns of the spec's Timestamp, Uuid and Date schemas: nothing is hard-coded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from jsonschema.exceptions import ValidationError

from apollospace_conformance.checks.context import ResponseContext
from apollospace_conformance.checks.registry import response_check
from apollospace_conformance.checks.violation import ContractViolation

STATUS_TABLE = {200, 201, 204, 400, 401, 403, 404, 409, 429, 500}
ID_KEY = re.compile(r"^(id|.+_id)$")
NOT_RESOURCE_IDS = {"request_id"}
DEFAULT_LIMIT = 50


def _fail(ctx: ResponseContext, requirement: str, expected: str, received: str) -> ContractViolation:
    reproduction = ctx.reproduction.curl() if ctx.reproduction is not None and hasattr(ctx.reproduction, "curl") else None
    where = f"{ctx.method} {ctx.operation.path} ({ctx.operation.operation_id}) answered {ctx.status}"
    return ContractViolation(requirement, expected, f"{where}: {received}", reproduction)


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


# --- errors -------------------------------------------------------------------


@response_check("error_envelope", "/req/errors/envelope", needs="an error answer (4xx or 5xx)")
def error_envelope(ctx: ResponseContext) -> bool | None:
    if not ctx.is_error:
        return
    body = ctx.body
    error = body.get("error") if isinstance(body, dict) else None
    if not (isinstance(body, dict) and set(body) == {"error"} and isinstance(error, dict)):
        raise _fail(ctx, "/req/errors/envelope", "a JSON body {error: {code, message, request_id}}", _short(body if body is not None else ctx.raw_body[:200]))
    for key in ("code", "message", "request_id"):
        if not isinstance(error.get(key), str) or not error.get(key):
            raise _fail(ctx, "/req/errors/envelope", f"error.{key} a non-empty string", f"error = {_short(error)}")
    return True


@response_check("request_id_header", "/req/errors/request-id-header")
def request_id_header(ctx: ResponseContext) -> bool | None:
    header = ctx.headers.get("x-request-id")
    if not header:
        raise _fail(ctx, "/req/errors/request-id-header", "an X-Request-Id header", "none")
    error = ctx.body.get("error") if ctx.is_error and isinstance(ctx.body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("request_id"), str) and error["request_id"] != header:
        raise _fail(ctx, "/req/errors/request-id-header", f"X-Request-Id equal to error.request_id {error['request_id']!r}", repr(header))
    return True


@response_check("documented_error_code", "/req/errors/documented-codes", needs="an error answer with the envelope")
def documented_error_code(ctx: ResponseContext) -> bool | None:
    error = ctx.body.get("error") if ctx.is_error and isinstance(ctx.body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), str):
        return  # the envelope check owns malformed bodies
    documented = ctx.spec.documented_errors(ctx.operation)
    if (error["code"], ctx.status) not in documented:
        codes = sorted(f"{code} ({status})" for code, status in documented if status == ctx.status)
        raise _fail(ctx, "/req/errors/documented-codes", f"one of the codes documented for {ctx.status}: {', '.join(codes) or 'none'}", repr(error["code"]))
    return True


@response_check("json_content_type", "/req/errors/json-content-type", needs="an answer with a body")
def json_content_type(ctx: ResponseContext) -> bool | None:
    if not ctx.raw_body:
        return
    media = ctx.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise _fail(ctx, "/req/errors/json-content-type", "Content-Type: application/json", repr(ctx.headers.get("content-type")))
    return True


# --- status codes ---------------------------------------------------------------


@response_check("documented_status", "/req/status-codes/documented-only")
def documented_status(ctx: ResponseContext) -> bool | None:
    owned_elsewhere = 200 <= ctx.status < 300 and (ctx.operation.is_create or ctx.operation.method == "delete")
    if owned_elsewhere:
        return  # created_with_body and delete_without_body own these
    if ctx.status not in STATUS_TABLE or str(ctx.status) not in ctx.operation.responses:
        documented = ", ".join(sorted(ctx.operation.responses))
        raise _fail(ctx, "/req/status-codes/documented-only", f"a status from the table documented for the operation ({documented})", str(ctx.status))
    return True


@response_check("no_server_error", "/req/responses/no-server-errors", needs="any answer")
def no_server_error(ctx: ResponseContext) -> bool | None:
    if ctx.status >= 500:
        raise _fail(ctx, "/req/responses/no-server-errors", "no 5xx answer, to any request", _short(ctx.body if ctx.body is not None else ctx.raw_body[:200]))
    return True


@response_check("created_with_body", "/req/status-codes/created-201", needs="a successful creating POST")
def created_with_body(ctx: ResponseContext) -> bool | None:
    if not ctx.operation.is_create or not 200 <= ctx.status < 300:
        return
    if ctx.status != 201:
        raise _fail(ctx, "/req/status-codes/created-201", "201 Created for a successful creating POST", str(ctx.status))
    if not isinstance(ctx.body, dict):
        raise _fail(ctx, "/req/status-codes/created-201", "the created resource in the body", _short(ctx.raw_body[:200]))
    return True


@response_check("delete_without_body", "/req/status-codes/delete-204", needs="a successful DELETE")
def delete_without_body(ctx: ResponseContext) -> bool | None:
    if ctx.operation.method != "delete" or not 200 <= ctx.status < 300:
        return
    if ctx.status != 204 or ctx.raw_body:
        raise _fail(ctx, "/req/status-codes/delete-204", "204 with no body", f"{ctx.status} with {len(ctx.raw_body)} body bytes")
    return True


# --- rate limits ----------------------------------------------------------------


@response_check("retry_after_on_429", "/req/rate-limits/429-retry-after", needs="a 429 answer: pass --rate-limit-probe, or lower the target's limits within --probe-max-requests")
def retry_after_on_429(ctx: ResponseContext) -> bool | None:
    if ctx.status != 429:
        return
    value = ctx.headers.get("retry-after", "")
    if not value.strip().isdigit():
        raise _fail(ctx, "/req/rate-limits/429-retry-after", "a Retry-After header in whole seconds", repr(value or None))
    return True


# --- pagination -------------------------------------------------------------------


def _page(ctx: ResponseContext) -> dict[str, Any] | None:
    if not ctx.operation.is_list or ctx.status != 200:
        return None
    return ctx.body if isinstance(ctx.body, dict) else {}


@response_check("page_shape", "/req/pagination/cursor-based", needs="a 200 page of a list operation")
def page_shape(ctx: ResponseContext) -> bool | None:
    page = _page(ctx)
    if page is None:
        return None
    if not isinstance(page.get("items"), list):
        raise _fail(ctx, "/req/pagination/cursor-based", "a page {items: [...], next_cursor}", _short(page))
    return True


@response_check("next_cursor_present", "/req/pagination/next-cursor-null-at-end", needs="a 200 page of a list operation")
def next_cursor_present(ctx: ResponseContext) -> bool | None:
    page = _page(ctx)
    if page is None:
        return
    if "next_cursor" not in page:
        raise _fail(ctx, "/req/pagination/next-cursor-null-at-end", "next_cursor present (a string, or null at the end)", "no next_cursor key")
    if page["next_cursor"] is not None and (not isinstance(page["next_cursor"], str) or not page["next_cursor"]):
        raise _fail(ctx, "/req/pagination/next-cursor-null-at-end", "next_cursor a non-empty string or null", repr(page["next_cursor"]))
    return True


@response_check("limit_respected", "/req/pagination/limit-respected", needs="a 200 page of a list operation")
def limit_respected(ctx: ResponseContext) -> bool | None:
    page = _page(ctx)
    if page is None or not isinstance(page.get("items"), list):
        return
    raw = ctx.query.get("limit", [str(DEFAULT_LIMIT)])[-1]
    limit = int(raw) if raw.isdigit() else DEFAULT_LIMIT
    if len(page["items"]) > limit:
        raise _fail(ctx, "/req/pagination/limit-respected", f"at most {limit} items", f"{len(page['items'])} items")
    return True


# --- schema-shaped rules: dates, identifiers, the documented schema ------------------


def _leaf_errors(error: ValidationError) -> Iterator[ValidationError]:
    if error.context:
        for child in error.context:
            yield from _leaf_errors(child)
    else:
        yield error


def _classify(ctx: ResponseContext, error: ValidationError) -> str:
    """Which requirement a schema error breaks: timestamp, uuid, date, integer-id or schema."""
    spec = ctx.spec
    top = list(error.absolute_path)
    if ctx.operation.is_list and (top in (["items"], ["next_cursor"]) or (not top and error.validator == "required")):
        return "pagination"  # the page checks own the page's shape
    classes = set()
    for leaf in _leaf_errors(error):
        pattern = leaf.schema.get("pattern") if isinstance(leaf.schema, dict) else None
        if leaf.validator == "type" and pattern == spec.uuid_pattern and isinstance(leaf.instance, int) and not isinstance(leaf.instance, bool):
            classes.add("integer-id")
        elif leaf.validator in ("pattern", "format", "type") and pattern == spec.timestamp_pattern and leaf.instance is not None:
            classes.add("timestamp")
        elif leaf.validator in ("pattern", "format") and pattern == spec.uuid_pattern:
            classes.add("uuid")
        elif leaf.validator in ("pattern", "format") and pattern == spec.date_pattern:
            classes.add("date")
    for name in ("integer-id", "timestamp", "uuid", "date"):
        if name in classes:
            return name
    return "schema"


def _schema_errors(ctx: ResponseContext, wanted: str) -> list[ValidationError]:
    if ctx.body is None and not ctx.raw_body:
        return []
    validator = ctx.spec.response_validator(ctx.operation.operation_id, str(ctx.status))
    if validator is None:
        return []
    return [error for error in validator.iter_errors(ctx.body) if _classify(ctx, error) == wanted]


def _where(error: ValidationError) -> str:
    return "/".join(str(part) for part in error.absolute_path) or "(root)"


@response_check("utc_timestamps", "/req/dates/utc-timestamps")
def utc_timestamps(ctx: ResponseContext) -> bool | None:
    for error in _schema_errors(ctx, "timestamp"):
        raise _fail(ctx, "/req/dates/utc-timestamps", "an ISO 8601 timestamp in UTC (Z or +00:00)", f"{_where(error)} = {error.instance!r}")
    return True


@response_check("date_format", "/req/dates/date-format")
def date_format(ctx: ResponseContext) -> bool | None:
    for error in _schema_errors(ctx, "date"):
        raise _fail(ctx, "/req/dates/date-format", "a date as YYYY-MM-DD", f"{_where(error)} = {error.instance!r}")
    return True


@response_check("uuid_v4_ids", "/req/identifiers/uuid-v4")
def uuid_v4_ids(ctx: ResponseContext) -> bool | None:
    for error in _schema_errors(ctx, "uuid"):
        raise _fail(ctx, "/req/identifiers/uuid-v4", "a version 4 UUID", f"{_where(error)} = {error.instance!r}")
    return True


def _integer_ids(value: Any, path: str = "") -> Iterator[tuple[str, int]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and ID_KEY.match(key) and key not in NOT_RESOURCE_IDS and isinstance(item, int) and not isinstance(item, bool):
                yield f"{path}/{key}", item
            yield from _integer_ids(item, f"{path}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _integer_ids(item, f"{path}/{index}")


@response_check("no_integer_ids", "/req/identifiers/no-integer-ids")
def no_integer_ids(ctx: ResponseContext) -> bool | None:
    for where, value in _integer_ids(ctx.body):
        raise _fail(ctx, "/req/identifiers/no-integer-ids", "UUID identifiers only", f"{where or '(root)'} = {value}")
    for error in _schema_errors(ctx, "integer-id"):
        raise _fail(ctx, "/req/identifiers/no-integer-ids", "UUID identifiers only", f"{_where(error)} = {error.instance!r}")
    return True


@response_check("response_schema", "/req/responses/schema-conformance")
def response_schema(ctx: ResponseContext) -> bool | None:
    if str(ctx.status) not in ctx.operation.responses or ctx.is_error:
        return  # undocumented statuses and error bodies are owned by other checks
    for error in _schema_errors(ctx, "schema"):
        raise _fail(ctx, "/req/responses/schema-conformance", f"a body valid against the documented {ctx.status} schema", f"{_where(error)}: {error.message[:200]}")
    return True
