"""`error.details`: when an error names the inputs that failed, each must be findable in the request.

The shape comes from the spec (the `details` property of the Error schema);
only the meaning of `in` and `pointer` is read from the requirement: a pointer
into the JSON body that was sent (or at a required member it lacks), or `/`
and the name of a query, path or header parameter of the request.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlparse

from apollospace_conformance.checks.context import ResponseContext
from apollospace_conformance.checks.registry import response_check
from apollospace_conformance.checks.violation import ContractViolation

REQUIREMENT = "/req/errors/details-shape"
DETAILS_SCHEMA = "#/components/schemas/Error/properties/error/properties/details"
_ARRAY_INDEX = re.compile(r"^(0|[1-9][0-9]*)$")
_NOT_SENT = object()


class _Unknown(Exception):
    """The check cannot tell what was sent (a context without the request)."""


def _fail(ctx: ResponseContext, expected: str, received: str) -> ContractViolation:
    reproduction = ctx.reproduction.curl() if ctx.reproduction is not None and hasattr(ctx.reproduction, "curl") else None
    where = f"{ctx.method} {ctx.operation.path} ({ctx.operation.operation_id}) answered {ctx.status}"
    return ContractViolation(REQUIREMENT, expected, f"{where}: {received}", reproduction)


def tokens(pointer: str) -> list[str]:
    """The reference tokens of an RFC 6901 pointer (already checked against the schema's pattern)."""
    if pointer == "":
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]


def _step(node: Any, token: str) -> Any:
    if isinstance(node, dict):
        return node.get(token, _NOT_SENT)
    if isinstance(node, list) and _ARRAY_INDEX.match(token) and int(token) < len(node):
        return node[int(token)]
    return _NOT_SENT


def locates_in_body(body: Any, parts: list[str]) -> bool:
    """The pointer resolves in `body`, or its last token names a member the object above it lacks."""
    node = body
    for index, token in enumerate(parts):
        found = _step(node, token)
        if found is _NOT_SENT:
            return index == len(parts) - 1 and isinstance(node, dict)
        node = found
    return node is not _NOT_SENT


def _sent_body(ctx: ResponseContext) -> Any:
    """The JSON body of the request as sent; _NOT_SENT for none (or not JSON)."""
    request = ctx.reproduction
    if request is None or not hasattr(request, "request_headers"):
        raise _Unknown  # the fuzz layer's contexts do not carry the request
    if getattr(request, "request_body", None) is not None:
        return request.request_body
    raw = getattr(request, "sent_body", None)
    if not raw:
        return _NOT_SENT
    try:
        return json.loads(raw)
    except ValueError:
        return _NOT_SENT


def _sent_headers(ctx: ResponseContext) -> set[str]:
    request = ctx.reproduction
    if request is None or not hasattr(request, "request_headers"):
        raise _Unknown
    return {name.lower() for name in request.request_headers}


def _declared(ctx: ResponseContext, location: str) -> set[str]:
    names = {p["name"] for p in ctx.operation.parameters(ctx.spec.document) if p.get("in") == location}
    return {name.lower() for name in names} if location == "header" else names


def _problem(ctx: ResponseContext, item: dict[str, Any]) -> str | None:
    """Why `item` does not locate an input of the request; None when it does (or cannot be judged)."""
    location, pointer = item["in"], item["pointer"]
    parts = tokens(pointer)
    try:
        if location == "body":
            body = _sent_body(ctx)
            if body is _NOT_SENT:
                return f"pointer {pointer!r} into the body, but no JSON body was sent"
            return None if locates_in_body(body, parts) else f"pointer {pointer!r} locates nothing in the body sent"
        if len(parts) != 1:
            return f"{location} pointer {pointer!r} is not `/` and one parameter name"
        name = parts[0]
        if location == "query":
            sent = {key for key, _ in parse_qsl(urlparse(ctx.url).query, keep_blank_values=True)}
            known = sent | _declared(ctx, "query")
        elif location == "path":
            known = set(re.findall(r"\{([^}]+)\}", ctx.operation.path))
        else:
            known = _sent_headers(ctx) | _declared(ctx, "header")
            name = name.lower()
        return None if name in known else f"{location} parameter {parts[0]!r} was neither sent nor documented"
    except _Unknown:
        return None


@response_check("error_details", REQUIREMENT, needs="an error answer carrying error.details (validation_failed on a bad body or query)")
def error_details(ctx: ResponseContext) -> bool | None:
    error = ctx.body.get("error") if ctx.is_error and isinstance(ctx.body, dict) else None
    if not isinstance(error, dict) or "details" not in error:
        return None  # details are optional; the envelope check owns the rest
    details = error["details"]
    for schema_error in ctx.spec.validator.for_pointer(DETAILS_SCHEMA).iter_errors(details):
        where = "".join(f"/{part}" for part in schema_error.absolute_path)
        raise _fail(ctx, "error.details valid against the ErrorDetail schema", f"details{where}: {schema_error.message[:200]}")
    for index, item in enumerate(details):
        problem = _problem(ctx, item)
        if problem is not None:
            raise _fail(ctx, "each error.details pointer locating an input of the request that was sent", f"details/{index}: {problem}")
    return True
