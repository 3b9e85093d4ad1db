"""Requests built from the spec's operations, for the convention-behaviour modules.

No list of paths: operations come from `kit.spec.operations`, path ids are
random version 4 UUIDs (or ids the caller supplies), bodies are the examples of
the documented request schemas. The one path named is where
resources.create_lead creates the suite's leads. Sampling is deterministic for
a seed and shrinks with the profile. The kit's clients wait out a 429 instead of
reporting it against the requirement under test.
"""

from __future__ import annotations

import contextlib
import copy
import random
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import pytest

from apollospace_conformance.checks import (
    RESPONSE_CHECKS,
    ContractViolation,
    ResponseContext,
    violation,
)
from apollospace_conformance.evidence import blocked
from apollospace_conformance.http import BudgetExhausted, Exchange, KitClient
from apollospace_conformance.liveness import TIMELY
from apollospace_conformance.session import KitSession
from apollospace_spec.model import NO_DECLARED_VALUE, Operation, declared_value, resolve

METHOD_ORDER = {"get": 0, "head": 1, "options": 2, "post": 3, "put": 4, "patch": 5, "delete": 6, "trace": 7}
ORGANIZATION_HEADER = "x-organization-id"
RATE_LIMIT_ATTEMPTS = 3
LEAD_COLLECTION = "/leads"  # where resources.create_lead creates the suite's leads


# --- operations ---------------------------------------------------------------------


def label(operation: Operation) -> str:
    return f"{operation.method.upper()} {operation.path} ({operation.operation_id})"


def ordered(operations: Iterable[Operation]) -> list[Operation]:
    """Operations in a stable order: by path, then method."""
    return sorted(operations, key=lambda op: (op.path, METHOD_ORDER.get(op.method, 9)))


def path_parameters(kit: KitSession, operation: Operation) -> list[str]:
    """The names of the operation's path parameters, in the order they appear in the path."""
    declared = {p["name"] for p in operation.parameters(kit.spec.document) if p["in"] == "path"}
    in_path = re.findall(r"\{([^}]+)\}", operation.path)
    return [name for name in in_path if name in declared] + sorted(declared - set(in_path))


def requires_bearer(kit: KitSession, operation: Operation) -> bool:
    """True unless the operation (or the document) declares no security requirement."""
    security = operation.definition.get("security", kit.spec.document.get("security", []))
    return bool(security) and all(requirement for requirement in security)


def requires_organization(kit: KitSession, operation: Operation) -> bool:
    return any(p["in"] == "header" and p["name"].lower() == ORGANIZATION_HEADER and p.get("required")
               for p in operation.parameters(kit.spec.document))


def operations(kit: KitSession, where: Callable[[Operation], bool] | None = None) -> list[Operation]:
    """Every operation of the spec (that `where` accepts), in a stable order."""
    return ordered(op for op in kit.spec.operations if where is None or where(op))


def sample_size(kit: KitSession) -> int:
    """How many operations a per-operation test tries: a few on quick, everything (today) above."""
    return max(6, 2 * kit.settings.profile_settings.max_examples)


def sample(kit: KitSession, candidates: list[Operation], purpose: str, size: int | None = None) -> list[Operation]:
    """A deterministic sample for the run's seed and `purpose`, spread over the HTTP methods.

    The sample has its own random generator (seeded with the run's seed and the purpose),
    so it does not change when other tests or classes are left out of a run.
    """
    size = sample_size(kit) if size is None else size
    candidates = ordered(candidates)
    if len(candidates) <= size:
        return candidates
    rng = random.Random(f"{kit.settings.seed}:{purpose}")
    groups: dict[str, list[Operation]] = {}
    for op in candidates:
        groups.setdefault(op.method, []).append(op)
    for group in groups.values():
        rng.shuffle(group)
    chosen: list[Operation] = []
    methods = sorted(groups, key=lambda m: METHOD_ORDER.get(m, 9))
    while len(chosen) < size:
        for method in methods:
            if groups[method] and len(chosen) < size:
                chosen.append(groups[method].pop())
    return ordered(chosen)


# --- values ---------------------------------------------------------------------------


def random_uuid4(kit: KitSession) -> str:
    return str(uuid.UUID(int=kit.random.getrandbits(128), version=4))


def random_uuid1(kit: KitSession) -> str:
    """A well-formed UUID of version 1 (time-based): a valid UUID that is not a v4."""
    return str(uuid.UUID(int=kit.random.getrandbits(128), version=1))


def minimal_instance(document: dict[str, Any], schema: Any, kit: KitSession, depth: int = 0) -> Any:
    """An instance of `schema`: its example if it has one, else the smallest plausible value."""
    schema = resolve(document, schema)
    if not isinstance(schema, dict) or depth > 8:
        return None
    if (named := declared_value(schema)) is not NO_DECLARED_VALUE:
        return named
    for combinator in ("oneOf", "anyOf", "allOf"):
        if schema.get(combinator):
            return minimal_instance(document, schema[combinator][0], kit, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        return {name: minimal_instance(document, properties.get(name, {}), kit, depth + 1) for name in schema.get("required", [])}
    if kind == "array":
        return [minimal_instance(document, schema.get("items", {}), kit, depth + 1) for _ in range(schema.get("minItems", 0))]
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    if kind == "string":
        if schema.get("format") == "uuid" or schema.get("pattern") == kit.spec.uuid_pattern:
            return random_uuid4(kit)
        if schema.get("format") == "email":
            return "conformance@example.com"
        if schema.get("format") in ("uri", "uri-reference"):
            return "https://example.com/"
        return "x" * max(1, schema.get("minLength", 1))
    return None


def request_schema(kit: KitSession, operation: Operation) -> dict[str, Any] | None:
    """The JSON schema of the operation's request body, resolved, or None."""
    body = operation.definition.get("requestBody")
    if body is None:
        return None
    media = (resolve(kit.spec.document, body).get("content") or {}).get("application/json") or {}
    schema = media.get("schema")
    return resolve(kit.spec.document, schema) if schema is not None else None


def example_body(kit: KitSession, operation: Operation) -> Any:
    """A documented example of the operation's request body (None when it takes none)."""
    body = operation.definition.get("requestBody")
    if body is None:
        return None
    media = (resolve(kit.spec.document, body).get("content") or {}).get("application/json") or {}
    if "example" in media:
        return media["example"]
    if media.get("examples"):
        first = next(iter(media["examples"].values()))
        return resolve(kit.spec.document, first).get("value")
    schema = media.get("schema")
    return minimal_instance(kit.spec.document, schema, kit) if schema is not None else None


# --- requests ---------------------------------------------------------------------------


@dataclass
class Prepared:
    """One request to one operation, ready to send as any identity."""

    operation: Operation
    path: str  # concrete, relative to the base URL
    path_values: dict[str, str]
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None

    @property
    def method(self) -> str:
        return self.operation.method.upper()

    def send(self, client: KitClient, *, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
             body: Any = ..., raw_body: bytes | None = None) -> Exchange:
        json_body = self.body if body is ... else body
        return send(client, self.method, self.path, params={**self.params, **(params or {})},
                    headers={**self.headers, **(headers or {})}, json_body=json_body, raw_body=raw_body)


def fill_path(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: values[m.group(1)], template)


def build(kit: KitSession, operation: Operation, path_values: dict[str, str] | None = None, *, body: Any = ...) -> Prepared:
    """A request to `operation`: given path ids, random v4 UUIDs for the rest, required
    query and header parameters from their examples, the documented example body."""
    values = {name: (path_values or {}).get(name) or random_uuid4(kit) for name in path_parameters(kit, operation)}
    params: dict[str, Any] = {}
    headers: dict[str, str] = {}
    for parameter in operation.parameters(kit.spec.document):
        if not parameter.get("required") or parameter["in"] not in ("query", "header"):
            continue
        if parameter["in"] == "header" and parameter["name"].lower() in (ORGANIZATION_HEADER, "authorization"):
            continue  # the client's identity supplies these
        value = parameter.get("example", minimal_instance(kit.spec.document, parameter.get("schema", {}), kit))
        (params if parameter["in"] == "query" else headers)[parameter["name"]] = value if parameter["in"] == "query" else str(value)
    return Prepared(operation, fill_path(operation.path, values), values, params, headers,
                    example_body(kit, operation) if body is ... else body)


def send(client: KitClient, method: str, path: str, **kwargs: Any) -> Exchange:
    """Send through the client (which waits out 429s); a server that keeps rate-limiting skips the test."""
    exchange = client.request(method, path, **kwargs)
    if exchange.status == 429:
        pytest.skip(f"the server kept rate-limiting the kit: {exchange.describe()[:200]}")
    return exchange



@contextlib.contextmanager
def identity(client: KitClient, **changes: Any) -> Iterator[KitClient]:
    """`client` acting as someone else (token=..., org_id=...; None removes the header), closed afterwards."""
    other = client.with_identity(**changes)
    try:
        yield other
    finally:
        other.close()


def relative_path(kit: KitSession, url: str) -> str:
    """A URL or absolute path of the server, relative to the base URL (as the spec's paths are)."""
    path = urlparse(url).path
    prefix = urlparse(kit.settings.url).path.rstrip("/")
    return path[len(prefix):] if prefix and path.startswith(prefix) else path


def find(kit: KitSession, method: str, path: str) -> Operation | None:
    found = kit.spec.router.find(method, path)
    return None if isinstance(found, list) else found[0]


def nested_operations(kit: KitSession, collection: str) -> tuple[str, list[Operation]]:
    """The operations on one item of a collection and below it, with the item's only path parameter.

    For `/leads` these are the item's read, update, delete and its sub-collections.
    Returns the parameter's name and the operations.
    """
    item = re.compile(re.escape(collection) + r"/\{([^}/]+)\}(/.*)?$")
    names = {m.group(1) for op in kit.spec.operations if (m := item.match(op.path))}
    if len(names) != 1:
        pytest.skip(f"the spec has no single item path under {collection}: {sorted(names)}")
    name = names.pop()
    chosen = [op for op in kit.spec.operations if item.match(op.path) and path_parameters(kit, op) == [name]]
    return name, ordered(chosen)


# --- expectations -------------------------------------------------------------------------


def error_code(exchange: Exchange) -> str | None:
    """The error envelope's code, when the response has one."""
    error = error_of(exchange)
    return error.get("code") if error is not None and isinstance(error.get("code"), str) else None


def has_envelope(exchange: Exchange) -> bool:
    """The body is exactly {error: {code, message, request_id}}, all non-empty strings."""
    body, error = exchange.response_body, error_of(exchange)
    return (isinstance(body, dict) and set(body) == {"error"} and error is not None
            and all(isinstance(error.get(key), str) and error.get(key) for key in ("code", "message", "request_id")))


def documented_body_example(kit: KitSession, operation: Operation) -> dict[str, Any] | None:
    """A copy of the first documented example of the operation's JSON body (media type, then schema), or None."""
    raw = operation.definition.get("requestBody")
    if raw is None:
        return None
    media = (resolve(kit.spec.document, raw).get("content") or {}).get("application/json") or {}
    if "example" in media:
        return copy.deepcopy(media["example"])
    schema = resolve(kit.spec.document, media.get("schema", {}))
    examples = schema.get("examples") or ([schema["example"]] if "example" in schema else [])
    return copy.deepcopy(examples[0]) if examples else None


def error_of(exchange: Exchange) -> dict[str, Any] | None:
    body = exchange.response_body
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


def envelope_problem(kit: KitSession, operation: Operation, exchange: Exchange) -> ContractViolation | None:
    """The core's envelope check on one error response: None when the envelope is right."""
    ctx = ResponseContext(spec=kit.spec, operation=operation, method=exchange.method, url=exchange.url, status=exchange.status,
                          headers=exchange.response_headers, body=exchange.response_body, raw_body=exchange.raw_body,
                          reproduction=exchange)
    try:
        RESPONSE_CHECKS["error_envelope"].function(ctx)
    except ContractViolation as broken:
        return broken
    return None


def expect_error(kit: KitSession, operation: Operation, exchange: Exchange, requirement: str, statuses: Iterable[int], what: str, *,
                 codes: Iterable[str] | None = None, reproduction: Any = None) -> dict[str, Any]:
    """The error of `exchange` if its status is one of `statuses` with the envelope (and one of `codes`),
    else a violation of `requirement`."""
    statuses = tuple(statuses)
    shown = reproduction or exchange
    wanted = " or ".join(str(s) for s in statuses)
    if exchange.status not in statuses:
        raise violation(requirement, f"{wanted} with the error envelope for {what}", exchange.describe(), shown)
    broken = envelope_problem(kit, operation, exchange)
    if broken is not None:
        raise violation(requirement, f"{wanted} with the error envelope {{error: {{code, message, request_id}}}} for {what}", broken.received, shown)
    error = error_of(exchange) or {}
    if codes is not None:
        codes = tuple(codes)
        if error.get("code") not in codes:
            raise violation(requirement, f"{wanted} with error.code {' or '.join(codes)} for {what}", exchange.describe(), shown)
    return error


class Violations:
    """Collects the violations of a test that tries many operations, so one broken operation hides no other."""

    def __init__(self) -> None:
        self.found: list[ContractViolation] = []
        self.unanswered: list[str] = []  # requests the server left unanswered (/req/responses/timely)

    @contextlib.contextmanager
    def collect(self) -> Iterator[None]:
        try:
            yield
        except ContractViolation as broken:
            if broken.requirement == TIMELY:  # already recorded by liveness under its own requirement
                self.unanswered.append(broken.received)
            else:
                self.found.append(broken)
        except (BudgetExhausted, pytest.skip.Exception):
            self.raise_any()  # what was found so far is reported; else the test is skipped
            raise

    def raise_any(self) -> None:
        if len(self.found) == 1:
            raise self.found[0]
        if self.found:
            raise ExceptionGroup(f"{len(self.found)} violation(s)", self.found)
        if self.unanswered:  # what was left unanswered was not judged: no pass on the rest alone
            blocked(TIMELY, f"{len(self.unanswered)} request(s) went unanswered, e.g. {self.unanswered[0][:200]}")


def expect_refusals(kit: KitSession, client: KitClient, operations: Iterable[Operation], found: Violations, requirement: str,
                    statuses: Iterable[int], context: str, *, codes: Iterable[str] | None = None) -> None:
    """Send each operation's built request as `client`: every answer must be one of `statuses` with the envelope
    (and one of `codes`); what breaks that is collected in `found` under `requirement`."""
    statuses = tuple(statuses)
    for operation in operations:
        with found.collect():
            exchange = build(kit, operation).send(client)
            expect_error(kit, operation, exchange, requirement, statuses, f"{label(operation)} {context}", codes=codes, reproduction=exchange)
