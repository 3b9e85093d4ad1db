"""Errors: the envelope, documented codes, unique request ids and JSON bodies.

One module fixture provokes a dozen different errors on operations picked from
the spec by their shape (a list, a read by id, a delete, a create with a body);
each test holds those same responses to one requirement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from apollospace_conformance.checks import violation
from apollospace_conformance.http import Exchange, KitClient
from apollospace_conformance.session import KitSession
from apollospace_spec.model import Operation

from ._requests import (
    Violations,
    build,
    envelope_problem,
    error_of,
    identity,
    label,
    operations,
    path_parameters,
    random_uuid4,
    request_schema,
)

MALFORMED_JSON = b'{"this is": "not JSON",'


@dataclass
class Provoked:
    what: str
    operation: Operation
    exchange: Exchange
    reproduction: Any

    @property
    def is_error(self) -> bool:
        return self.exchange.status >= 400

    def describe(self) -> str:
        return f"{self.what}: {label(self.operation)}"


def _first(kit: KitSession, what: str, accept: Any) -> Operation:
    found = operations(kit, accept)
    if not found:
        pytest.skip(f"the spec has no {what} to provoke errors on")
    return found[0]


@pytest.fixture(scope="module")
def provoked(kit: KitSession, api: KitClient) -> list[Provoked]:
    """A dozen requests that must fail in different ways, on operations the spec supplies."""
    list_op = _first(kit, "list operation without path parameters", lambda op: op.is_list and not path_parameters(kit, op))
    item_op = _first(kit, "read of one resource", lambda op: op.method == "get" and not op.is_list and bool(path_parameters(kit, op)))
    delete_op = _first(kit, "delete", lambda op: op.method == "delete")
    body_op = _first(kit, "create operation with a required body field", lambda op: op.is_create and not path_parameters(kit, op)
                     and bool((request_schema(kit, op) or {}).get("required")))
    result: list[Provoked] = []

    def record(what: str, operation: Operation, exchange: Exchange, reproduction: Any = None) -> None:
        result.append(Provoked(what, operation, exchange, reproduction or exchange))

    listing = build(kit, list_op)
    with identity(api, token=None) as anonymous:
        record("no bearer token", list_op, listing.send(anonymous))
    garbage = f"apollospace-conformance-{kit.random.getrandbits(64):016x}"
    with identity(api, token=garbage) as forger:
        exchange = build(kit, item_op).send(forger)
        record("garbage bearer token", item_op, exchange, exchange)
    with identity(api, org_id=None) as nowhere:
        record("no X-Organization-Id", list_op, listing.send(nowhere))
    with identity(api, org_id=random_uuid4(kit)) as intruder:
        record("an organization the caller is not a member of", list_op, listing.send(intruder))
    missing = build(kit, item_op)
    record("a resource that does not exist", item_op, missing.send(api))
    record("the same request again", item_op, missing.send(api))
    record("deleting a resource that does not exist", delete_op, build(kit, delete_op).send(api))
    create = build(kit, body_op)
    exchange = create.send(api, raw_body=MALFORMED_JSON)
    record("a body that is not JSON", body_op, exchange, exchange)
    record("a body without its required fields", body_op, create.send(api, body={}))
    record("limit=0", list_op, listing.send(api, params={"limit": 0}))
    record("a cursor the server never issued", list_op, listing.send(api, params={"cursor": f"not-a-cursor-{garbage}"}))
    first_param = path_parameters(kit, item_op)[0]
    record("a path id that is not a UUID", item_op, build(kit, item_op, {first_param: "abc"}).send(api))
    for entry in result:
        if entry.exchange.status in range(200, 300):  # a broken server accepted something: clean it up
            kit.remember_created(api, entry.exchange)
    return result


def _errors(provoked: list[Provoked], minimum: int = 3) -> list[Provoked]:
    errors = [entry for entry in provoked if entry.is_error]
    if len(errors) < minimum:
        pytest.skip(f"only {len(errors)} of {len(provoked)} provoked requests were answered with an error status")
    return errors


@pytest.mark.requirement("/req/errors/envelope")
def test_error_envelope(kit: KitSession, provoked: list[Provoked]) -> None:
    """Requirement: /req/errors/envelope (every 4xx and 5xx is JSON {error: {code, message, request_id}}, all three strings).
    Test purpose: errors of every family (401, 403, 404, 400 for the body, the query and the path) share the one envelope.
    Test method: 1. provoke a dozen different errors on operations taken from the spec: no token, a garbage token, no organization,
    a foreign organization, a missing resource (twice), a delete of a missing resource, a body that is not JSON, a body missing
    required fields, limit=0, a forged cursor, a path id that is not a UUID 2. every error response has exactly the key `error`,
    an object with non-empty string `code`, `message` and `request_id`.
    """
    found = Violations()
    for entry in _errors(provoked):
        with found.collect():
            broken = envelope_problem(kit, entry.operation, entry.exchange)
            if broken is not None:
                raise violation("/req/errors/envelope", f"the error envelope for {entry.describe()}", broken.received, entry.reproduction)
    found.raise_any()


@pytest.mark.requirement("/req/errors/request-id-unique", "/req/errors/request-id-header")
def test_request_ids_unique(provoked: list[Provoked]) -> None:
    """Requirement: /req/errors/request-id-unique (every error carries a request_id unique to its request);
    /req/errors/request-id-header (X-Request-Id equals error.request_id).
    Test purpose: a dozen different errors, two of them answers to the very same request, carry a dozen different request ids,
    each echoed in the X-Request-Id header.
    Test method: 1. take the provoked errors (see test_error_envelope), among them one request sent twice 2. their
    error.request_id values are all different 3. each response's X-Request-Id header equals its error.request_id.
    """
    found = Violations()
    first: dict[str, Provoked] = {}
    for entry in _errors(provoked):
        error = error_of(entry.exchange) or {}
        request_id = error.get("request_id")
        if not isinstance(request_id, str) or not request_id:
            continue  # the envelope test reports it
        with found.collect():
            if request_id in first:
                raise violation("/req/errors/request-id-unique", "a request_id unique to each request",
                                f"{request_id!r} on both {first[request_id].describe()} and {entry.describe()}", entry.reproduction)
            first[request_id] = entry
        with found.collect():
            header = entry.exchange.response_headers.get("x-request-id")
            if header != request_id:
                raise violation("/req/errors/request-id-header", f"X-Request-Id equal to error.request_id {request_id!r} for {entry.describe()}",
                                repr(header), entry.reproduction)
    found.raise_any()
    if len(first) < 2:
        pytest.skip("fewer than two errors carried a request_id: uniqueness cannot be judged")


@pytest.mark.requirement("/req/errors/documented-codes")
def test_documented_codes(kit: KitSession, provoked: list[Provoked]) -> None:
    """Requirement: /req/errors/documented-codes (every error.code is documented for the operation, with its documented status).
    Test purpose: the codes of a dozen different errors are stable codes the spec documents.
    Test method: 1. take the provoked errors (see test_error_envelope) 2. each (error.code, status) pair is one of the operation's
    x-apollospace-errors or the document's x-apollospace-common-errors.
    """
    found = Violations()
    for entry in _errors(provoked):
        error = error_of(entry.exchange) or {}
        if not isinstance(error.get("code"), str):
            continue  # the envelope test reports it
        with found.collect():
            documented = kit.spec.documented_errors(entry.operation)
            if (error["code"], entry.exchange.status) not in documented:
                same_status = sorted(code for code, status in documented if status == entry.exchange.status)
                raise violation("/req/errors/documented-codes",
                                f"for {entry.describe()}, a code documented with {entry.exchange.status}: {', '.join(same_status) or 'none'}",
                                f"{error['code']!r} with {entry.exchange.status}", entry.reproduction)
    found.raise_any()


@pytest.mark.requirement("/req/errors/json-content-type")
def test_json_content_type(kit: KitSession, api: KitClient, provoked: list[Provoked]) -> None:
    """Requirement: /req/errors/json-content-type (every response with a body is application/json).
    Test purpose: errors of every family and a successful read are all sent as application/json.
    Test method: 1. take the provoked errors (see test_error_envelope) and one successful list page 2. every response with
    a body has Content-Type application/json (parameters such as charset allowed).
    """
    list_op = _first(kit, "list operation without path parameters", lambda op: op.is_list and not path_parameters(kit, op))
    success = Provoked("a successful list page", list_op, build(kit, list_op).send(api, params={"limit": 1}), None)
    success.reproduction = success.exchange
    found = Violations()
    checked = 0
    for entry in [*provoked, success]:
        if not entry.exchange.raw_body:
            continue
        checked += 1
        with found.collect():
            media = entry.exchange.response_headers.get("content-type", "").split(";")[0].strip().lower()
            if media != "application/json":
                raise violation("/req/errors/json-content-type", f"Content-Type: application/json for {entry.describe()}",
                                repr(entry.exchange.response_headers.get("content-type")), entry.reproduction)
    found.raise_any()
    if checked == 0:
        pytest.skip("no response had a body")
