"""Resource lifecycle (conformance class `responses`): created resources are readable at once, deleted ones are gone.

The fuzz layer's stateful phase checks this on whatever its random sequences
create (standard and thorough profiles); this module checks it on every run,
on a resource the kit creates with a known-valid body and deletes itself. The
reads follow the spec's own links from the creating call's 201, so a new link
in the spec is checked without a change here.
"""

from __future__ import annotations

from typing import Any

import pytest
from jsonpointer import resolve_pointer

from apollospace_conformance import runtime
from apollospace_conformance.checks import violation
from apollospace_conformance.evidence import blocked
from apollospace_conformance.http import Exchange, KitClient
from apollospace_conformance.resources import first_pipeline_id, lead_body
from apollospace_conformance.session import KitSession
from apollospace_spec.model import Operation, resolve

REQUIREMENT = "/req/responses/resource-lifecycle"
CREATE_OPERATION = "createLead"  # a resource the kit can create validly and delete again
_SPEC = runtime.require().state.spec


def _operation(operation_id: str) -> Operation | None:
    return next((op for op in _SPEC.operations if op.operation_id == operation_id), None)


def links_of(operation: Operation, status: str = "201") -> dict[str, dict[str, Any]]:
    """The links the spec declares on one response of `operation`, by name."""
    response = resolve(_SPEC.document, operation.definition.get("responses", {}).get(status, {}))
    return {name: resolve(_SPEC.document, link) for name, link in (response.get("links") or {}).items()}


def link_value(expression: str, request_path: dict[str, str], created: Exchange) -> Any:
    """The value of a link's runtime expression ($response.body#/..., $request.path.<name>); None when the kit cannot evaluate it."""
    if expression.startswith("$response.body#"):
        return resolve_pointer(created.response_body, expression[len("$response.body#"):], None)
    if expression.startswith("$request.path."):
        return request_path.get(expression[len("$request.path."):])
    return None  # $request.header.*: the kit's client sends its own headers on every call


def follow_link(api: KitClient, link: dict[str, Any], request_path: dict[str, str], created: Exchange) -> tuple[Operation, Exchange] | None:
    """GET the operation a link points to, with its path parameters taken from the creating call; None for a non-GET target."""
    target = _operation(link.get("operationId", ""))
    if target is None or target.method != "get":
        return None
    values = {}
    for name, expression in (link.get("parameters") or {}).items():
        location, _, bare = name.rpartition(".")
        if location in ("", "path") and isinstance(expression, str) and "{" + bare + "}" in target.path:
            values[bare] = link_value(expression, request_path, created)
    if any(value is None for value in values.values()):
        return None
    return target, api.get(target.path.format(**{key: str(value) for key, value in values.items()}))


@pytest.mark.requirement(REQUIREMENT)
def test_created_resource_is_readable_then_gone(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/responses/resource-lifecycle (a created resource can be read right after its creating call;
    a deleted one is 404 afterwards).
    Test purpose: no read-after-write gap: the spec's links from createLead's 201 resolve at once, and the delete sticks.
    Test method: 1. POST /leads with a valid tagged body: expect 201 2. at once, GET every operation the spec links
    from that 201 (parameters from the links' expressions): expect 200 each 3. DELETE the lead 4. GET it: expect 404.
    """
    create = _operation(CREATE_OPERATION)
    if create is None:
        pytest.skip(f"the spec has no {CREATE_OPERATION}")
    links = links_of(create)
    if not links:
        pytest.skip(f"the spec declares no links on {CREATE_OPERATION}'s 201")
    created = api.post(create.path, lead_body(kit, first_pipeline_id(api)))
    # Any 2xx with the resource counts as created here: /req/status-codes/created-201 judges the exact status.
    if not 200 <= created.status < 300 or not isinstance(created.response_body, dict) or "id" not in created.response_body:
        blocked("/req/status-codes/created-201", f"{CREATE_OPERATION} with a valid body did not create a lead: {created.describe()[:200]}")
    kit.remember_created(api, created)  # deleted at the end of the run if this test stops early
    for name, link in sorted(links.items()):
        followed = follow_link(api, link, {}, created)
        if followed is not None and followed[1].status != 200:
            target, read = followed
            raise violation(REQUIREMENT, f"200 for {target.operation_id} right after {CREATE_OPERATION}'s 201 (link {name})", read.describe(), read)
    lead_path = f"{create.path}/{created.response_body['id']}"
    deleted = api.delete(lead_path)
    if not 200 <= deleted.status < 300:
        blocked("/req/status-codes/delete-204", f"deleteLead did not delete the lead: {deleted.describe()[:200]}")
    gone = api.get(lead_path)
    if gone.status != 404:
        raise violation(REQUIREMENT, f"404 for GET {lead_path} after its DELETE answered {deleted.status}", gone.describe(), gone)
