"""The kit's `error_details` check (/req/errors/details-shape) on hand-made exchanges.

Every case is one error answer to one request as the kit's client records it
(an `Exchange`), so the check sees exactly what was sent. The catalog variant
`error_details_wrong_pointers` proves the check fails a live server; these
cases pin down which pointers locate an input and which do not.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from apollospace_conformance.checks import (
    RESPONSE_CHECKS,
    ContractViolation,
    ResponseContext,
    SpecIndex,
)
from apollospace_conformance.http import Exchange

BASE = "https://api.example.com/v1"
LEAD_ID = "0f8c2a4e-6b1d-4e3f-9a5c-7d2e1b0a9c8f"
SPEC = SpecIndex()
CHECK = RESPONSE_CHECKS["error_details"]

IMPORT_BODY = {
    "pipeline_id": "6a3e9d12-4b7c-4f0e-8d1a-2c5b7e9f0a13",
    "rows": [{"contact_name": f"Contact {n}", "email": "not-an-email" if n == 3 else None} for n in range(5)],
}


def _context(method: str, url: str, details: Any, *, body: Any = None, raw: bytes | None = None,
             headers: dict[str, str] | None = None, status: int = 400) -> ResponseContext:
    error = {"code": "validation_failed", "message": "Invalid input.", "request_id": "req_7Qm2xZp9LkV3aB1c", "details": details}
    response = {"error": error}
    sent = {"Authorization": "Bearer token", "X-Organization-Id": "2f1f89d7-5c15-419b-bfe6-c4a1ef167827", **(headers or {})}
    exchange = Exchange(method=method, url=url, request_headers=sent, request_body=body, status=status,
                        response_headers={"content-type": "application/json"}, response_body=response,
                        raw_body=json.dumps(response).encode(), sent_body=raw if raw is not None else (json.dumps(body).encode() if body is not None else None))
    operation = SPEC.find(method, url, BASE)
    assert operation is not None, url
    return ResponseContext(spec=SPEC, operation=operation, method=method, url=url, status=status,
                           headers=exchange.response_headers, body=response, raw_body=exchange.raw_body, reproduction=exchange)


def _detail(where: str, pointer: str) -> dict[str, str]:
    return {"in": where, "pointer": pointer, "reason": "Not valid."}


ACCEPTED = [
    pytest.param("POST", f"{BASE}/lead-imports", [_detail("body", "/rows/3/email")], IMPORT_BODY, {}, id="an import row's field"),
    pytest.param("POST", f"{BASE}/lead-imports", [_detail("body", "/rows/3/phone")], IMPORT_BODY, {}, id="a member the row lacks"),
    pytest.param("POST", f"{BASE}/leads", [_detail("body", "/contact_name")], {}, {}, id="a required member not sent"),
    pytest.param("POST", f"{BASE}/leads", [_detail("body", "")], [], {}, id="the whole body"),
    pytest.param("GET", f"{BASE}/leads?limit=0", [_detail("query", "/limit")], None, {}, id="a query parameter sent"),
    pytest.param("GET", f"{BASE}/leads?colour=red", [_detail("query", "/colour")], None, {}, id="an unknown query parameter sent"),
    pytest.param("GET", f"{BASE}/leads/abc", [_detail("path", "/lead_id")], None, {}, id="a path parameter"),
    pytest.param("POST", f"{BASE}/leads", [_detail("header", "/Idempotency-Key")], {"contact_name": "Ana"}, {"Idempotency-Key": " "}, id="a header sent"),
    pytest.param("GET", f"{BASE}/leads", [_detail("header", "/X-Organization-Id")], None, {}, id="a documented header"),
]

REFUSED = [
    pytest.param("POST", f"{BASE}/lead-imports", [_detail("body", "/rows/9/email")], IMPORT_BODY, {}, "locates nothing", id="a row that was not sent"),
    pytest.param("POST", f"{BASE}/leads", [_detail("body", "/owner/id")], {}, {}, "locates nothing", id="below a member not sent"),
    pytest.param("GET", f"{BASE}/leads?limit=0", [_detail("body", "/limit")], None, {}, "no JSON body", id="the body of a GET"),
    pytest.param("GET", f"{BASE}/leads?limit=0", [_detail("query", "/limits")], None, {}, "neither sent nor documented", id="a query parameter never sent"),
    pytest.param("GET", f"{BASE}/leads?limit=0", [_detail("query", "/limit/0")], None, {}, "one parameter name", id="a query pointer with two tokens"),
    pytest.param("GET", f"{BASE}/leads/abc", [_detail("path", "/id")], None, {}, "neither sent nor documented", id="a path parameter of no such name"),
    pytest.param("POST", f"{BASE}/leads", [_detail("body", "email")], {"email": "x"}, {}, "ErrorDetail schema", id="a pointer without its leading slash"),
    pytest.param("POST", f"{BASE}/leads", [{"in": "form", "pointer": "/email", "reason": "x"}], {"email": "x"}, {}, "ErrorDetail schema", id="an unknown location"),
    pytest.param("POST", f"{BASE}/leads", [], {}, {}, "ErrorDetail schema", id="an empty list"),
    pytest.param("POST", f"{BASE}/leads", {"pointer": "/email"}, {}, {}, "ErrorDetail schema", id="an object, not a list"),
]


@pytest.mark.parametrize(("method", "url", "details", "body", "headers"), ACCEPTED)
def test_a_pointer_to_an_input_of_the_request_passes(method: str, url: str, details: Any, body: Any, headers: dict[str, str]) -> None:
    """Requirement: /req/errors/details-shape. A detail that locates an input of the request sent passes the check."""
    assert CHECK.function(_context(method, url, details, body=body, headers=headers)) is True


@pytest.mark.parametrize(("method", "url", "details", "body", "headers", "why"), REFUSED)
def test_a_pointer_to_nothing_sent_fails(method: str, url: str, details: Any, body: Any, headers: dict[str, str], why: str) -> None:
    """Requirement: /req/errors/details-shape. A malformed detail, or one that locates nothing sent, fails the check."""
    with pytest.raises(ContractViolation) as caught:
        CHECK.function(_context(method, url, details, body=body, headers=headers))
    assert caught.value.requirement == "/req/errors/details-shape"
    assert why in str(caught.value)


def test_an_error_without_details_is_not_judged() -> None:
    """Requirement: /req/errors/details-shape. Details are optional: an error without them does not exercise the check."""
    ctx = _context("GET", f"{BASE}/leads/{LEAD_ID}", None, status=404)
    ctx.body["error"].pop("details")
    assert CHECK.function(ctx) is None


def test_a_body_that_was_not_json_locates_nothing() -> None:
    """Requirement: /req/errors/details-shape. A body pointer after a body that was not JSON fails (nothing can be located)."""
    with pytest.raises(ContractViolation, match="no JSON body"):
        CHECK.function(_context("POST", f"{BASE}/leads", [_detail("body", "/email")], raw=b'{"email": '))
