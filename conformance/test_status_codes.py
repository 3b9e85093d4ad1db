"""Status codes: 201 for a creating POST, 204 for a DELETE, 400 for invalid input.

/req/status-codes/documented-only is held passively to every response of the run
(see test_observed); test_documented_status_on_one_lead makes sure the run
includes a successful answer of every operation on one lead, whatever classes
it claims.
"""

from __future__ import annotations

from typing import Any

import pytest

from apollospace_conformance.checks import RESPONSE_CHECKS, ResponseContext, violation
from apollospace_conformance.http import Exchange, KitClient
from apollospace_conformance.resources import create_lead, first_pipeline_id, lead_body, walk
from apollospace_conformance.session import KitSession
from apollospace_spec.model import Operation, resolve

from ._requests import (
    LEAD_COLLECTION,
    METHOD_ORDER,
    Violations,
    build,
    expect_error,
    find,
    label,
    nested_operations,
    operations,
    path_parameters,
    relative_path,
    request_schema,
    sample,
    send,
)

MALFORMED_JSON = b'{"contact_name": "unterminated'


def _remember(kit: KitSession, client: KitClient, exchange: Exchange) -> None:
    """Queue a created resource for deletion, when the spec can delete what its Location names."""
    location = exchange.response_headers.get("location")
    if location and find(kit, "DELETE", relative_path(kit, location)) is not None:
        kit.remember_created(client, exchange)


def _read_back(kit: KitSession, client: KitClient, operation: Operation, created: Exchange, collection: str) -> None:
    """The created resource is the one the server now holds: at its Location, or in the list it was created in."""
    resource_id = created.response_body.get("id")
    location = created.response_headers.get("location")
    where = relative_path(kit, location) if location else collection
    reader = find(kit, "GET", where)
    if reader is None or resource_id is None:
        return  # nothing the spec can read it back with
    if reader.is_list:
        items, pages = walk(client, where, limit=50)
        if not any(item.get("id") == resource_id for item in items):
            raise violation("/req/status-codes/created-201", f"the resource {label(operation)} returned (id {resource_id}) listed at {where}",
                            f"not among the {len(items)} items listed", pages[-1])
        return
    read = client.get(where)
    if read.status != 200 or not isinstance(read.response_body, dict) or read.response_body.get("id") != resource_id:
        raise violation("/req/status-codes/created-201", f"the resource {label(operation)} returned (id {resource_id}) readable at {where}",
                        read.describe(), read)


def _expect_created(operation: Operation, exchange: Exchange) -> None:
    if exchange.status != 201:
        raise violation("/req/status-codes/created-201", f"201 Created for {label(operation)} with a valid body", exchange.describe(), exchange)
    if not isinstance(exchange.response_body, dict) or not exchange.response_body:
        raise violation("/req/status-codes/created-201", f"the created resource in the body of {label(operation)}'s 201",
                        exchange.describe(), exchange)


@pytest.mark.requirement("/req/status-codes/created-201")
def test_created_201(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/status-codes/created-201 (a successful creating POST is answered 201 with the created resource in the body).
    Test purpose: creating a lead, and creating each resource the spec nests under one lead (a note on its timeline), answers 201
    with the resource in the body, and that resource is the one the server now holds.
    Test method: 1. POST a valid lead as tenant A 2. expect 201 with an object body 3. read its Location: the same id 4. for every
    creating POST the spec nests under one lead, POST its documented example 5. expect 201 with an object body, found at its
    Location (a read, or the list it was added to).
    """
    create_op = find(kit, "POST", LEAD_COLLECTION)
    if create_op is None or not create_op.is_create:
        pytest.skip(f"the spec has no creating POST {LEAD_COLLECTION}")
    created = send(api, "POST", LEAD_COLLECTION, json_body=lead_body(kit, first_pipeline_id(api)))
    _remember(kit, api, created)
    _expect_created(create_op, created)
    _read_back(kit, api, create_op, created, LEAD_COLLECTION)
    lead_id = str(created.response_body["id"])
    name, nested = nested_operations(kit, LEAD_COLLECTION)
    found = Violations()
    for operation in [op for op in nested if op.is_create]:
        with found.collect():
            prepared = build(kit, operation, {name: lead_id})
            exchange = prepared.send(api)
            _remember(kit, api, exchange)
            _expect_created(operation, exchange)
            _read_back(kit, api, operation, exchange, prepared.path)
    found.raise_any()


@pytest.mark.requirement("/req/status-codes/delete-204")
def test_delete_204(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/status-codes/delete-204 (a successful DELETE is answered 204 with no body).
    Test purpose: deleting a lead answers 204 and nothing else.
    Test method: 1. create a lead as tenant A 2. send the spec's DELETE on one lead with its id 3. expect 204 with an empty body.
    """
    name, nested = nested_operations(kit, LEAD_COLLECTION)
    delete_op = next((op for op in nested if op.method == "delete" and op.path == f"{LEAD_COLLECTION}/{{{name}}}"), None)
    if delete_op is None:
        pytest.skip(f"the spec has no DELETE {LEAD_COLLECTION}/{{{name}}}")
    lead = create_lead(kit, api)
    exchange = build(kit, delete_op, {name: str(lead["id"])}).send(api)
    if exchange.status != 204 or exchange.raw_body:
        raise violation("/req/status-codes/delete-204", f"204 with no body for {label(delete_op)} of an existing lead",
                        f"{exchange.status} with {len(exchange.raw_body)} body bytes: {exchange.describe()[:300]}", exchange)


def _same_value_update(kit: KitSession, operation: Operation, resource: dict[str, Any]) -> dict[str, Any] | None:
    """For an update, a body that re-sends one of the resource's own free-text values: valid, so it succeeds."""
    schema = request_schema(kit, operation)
    if operation.method not in ("patch", "put") or not schema:
        return None
    for name in sorted(schema.get("properties") or {}):
        if isinstance(resource.get(name), str) and not name.endswith("_id"):
            return {name: resource[name]}
    return None


@pytest.mark.requirement("/req/status-codes/documented-only")
def test_documented_status_on_one_lead(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/status-codes/documented-only (every status sent is in the conventions table and documented for the operation).
    Test purpose: the successful answers of every operation on one lead use documented statuses, even in a run whose other
    classes send no successful read or update (the passive check only sees what the run sends).
    Test method: 1. create a lead as tenant A 2. send every operation the spec has on one lead, the delete last, with its id
    (an update re-sends one of the lead's own free-text values; other bodies are the documented examples) 3. expect each status
    to be in the conventions table and documented for the operation (the 2xx of a create or a delete are created-201's and delete-204's).
    """
    name, nested = nested_operations(kit, LEAD_COLLECTION)
    lead = create_lead(kit, api)
    found = Violations()
    for operation in sorted(nested, key=lambda op: (op.method == "delete", METHOD_ORDER.get(op.method, 9), op.path)):
        with found.collect():
            exchange = build(kit, operation, {name: str(lead["id"])}, body=_same_value_update(kit, operation, lead) or ...).send(api)
            _remember(kit, api, exchange)
            ctx = ResponseContext(spec=kit.spec, operation=operation, method=exchange.method, url=exchange.url, status=exchange.status,
                                  headers=exchange.response_headers, body=exchange.response_body, raw_body=exchange.raw_body,
                                  reproduction=exchange)
            RESPONSE_CHECKS["documented_status"].function(ctx)
    found.raise_any()


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    return set(kind) if isinstance(kind, list) else {kind} if isinstance(kind, str) else set()


def _wrong_types(kit: KitSession, schema: dict[str, Any]) -> list[tuple[str, Any]]:
    """(property, value of the wrong type): a number for a string property (required ones first), a string for an integer one."""
    properties = {name: resolve(kit.spec.document, value) for name, value in (schema.get("properties") or {}).items()}
    required = set(schema.get("required", []))
    strings = sorted((name for name, prop in properties.items() if "string" in _types(prop) and not _types(prop) & {"integer", "number"}),
                     key=lambda name: (name not in required, name))
    integers = sorted(name for name, prop in properties.items() if _types(prop) & {"integer", "number"} and "string" not in _types(prop))
    wrong: list[tuple[str, Any]] = []
    if strings:
        wrong.append((strings[0], 12345))
    if integers:
        wrong.append((integers[0], "not-a-number"))
    return wrong


@pytest.mark.requirement("/req/status-codes/invalid-input-400")
def test_invalid_input_400(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/status-codes/invalid-input-400 (an invalid body, parameter or header, or a missing required parameter, is answered 400).
    Test purpose: malformed JSON, a missing required field, a field of the wrong type and a limit outside its documented range are
    refused with 400 and the envelope, and create nothing.
    Test method: 1. on a deterministic sample of the operations with a JSON body and no path parameter, send a body that is not JSON
    2. POST a valid lead body without each required field of the spec's schema, then with a number for a string field and a string for
    an integer field 3. on a sample of the list operations without path parameters, send limit one below the documented minimum and
    one above the documented maximum 4. expect 400 with the error envelope every time.
    """
    found = Violations()
    requirement = "/req/status-codes/invalid-input-400"
    with_body = operations(kit, lambda op: request_schema(kit, op) is not None and not path_parameters(kit, op))
    for operation in sample(kit, with_body, "malformed-json"):
        with found.collect():
            exchange = build(kit, operation).send(api, raw_body=MALFORMED_JSON)
            _remember(kit, api, exchange)
            expect_error(kit, operation, exchange, requirement, [400], f"{label(operation)} with a body that is not JSON",
                         reproduction=exchange)

    create_op = find(kit, "POST", LEAD_COLLECTION)
    schema = request_schema(kit, create_op) if create_op is not None else None
    if create_op is not None and schema is not None:
        valid = lead_body(kit, first_pipeline_id(api))
        broken_bodies = [(f"without its required field {field!r}", {k: v for k, v in valid.items() if k != field})
                         for field in schema.get("required", [])]
        broken_bodies += [(f"with {field!r} = {value!r} (wrong type)", {**valid, field: value}) for field, value in _wrong_types(kit, schema)]
        for what, body in broken_bodies:
            with found.collect():
                exchange = send(api, "POST", LEAD_COLLECTION, json_body=body)
                _remember(kit, api, exchange)
                expect_error(kit, create_op, exchange, requirement, [400], f"{label(create_op)} {what}")

    lists = operations(kit, lambda op: op.is_list and not path_parameters(kit, op))
    for operation in sample(kit, lists, "invalid-limit"):
        limit = next((p for p in operation.parameters(kit.spec.document) if p["in"] == "query" and p["name"] == "limit"), None)
        bounds = resolve(kit.spec.document, limit.get("schema", {})) if limit else {}
        values = [bounds["minimum"] - 1] if "minimum" in bounds else []
        values += [bounds["maximum"] + 1] if "maximum" in bounds else []
        for value in values:
            with found.collect():
                exchange = build(kit, operation).send(api, params={"limit": value})
                documented = f"documented {bounds.get('minimum')}..{bounds.get('maximum')}"
                expect_error(kit, operation, exchange, requirement, [400], f"{label(operation)} with limit={value} ({documented})")
    found.raise_any()
