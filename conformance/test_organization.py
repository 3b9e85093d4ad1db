"""Organization: the X-Organization-Id header, membership, roles and tenant isolation.

Tenant A and tenant B are two organizations whose users are not members of each
other's organization. Every operation comes from the spec.
"""

from __future__ import annotations

from typing import Any

import pytest

from apollospace_conformance.checks import violation
from apollospace_conformance.http import Exchange, KitClient
from apollospace_conformance.resources import create_lead, walk
from apollospace_conformance.session import KitSession
from ._requests import (
    LEAD_COLLECTION,
    METHOD_ORDER,
    Violations,
    build,
    error_of,
    expect_error,
    expect_refusals,
    find,
    identity,
    label,
    nested_operations,
    operations,
    random_uuid4,
    request_schema,
    requires_organization,
    sample,
)
from apollospace_spec.model import Operation, resolve


@pytest.mark.requirement("/req/organization/header-required")
def test_header_required_on_every_operation(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/organization/header-required (every operation requires X-Organization-Id, a UUID; without it, 403).
    Test purpose: no operation serves a call by a valid user that names no organization, or names it with something not a UUID.
    Test method: 1. for every operation of the spec that declares the required X-Organization-Id header, send a request
    (random v4 path ids, the documented example body) with tenant A's token and no X-Organization-Id 2. expect 403 with the
    envelope 3. on a deterministic sample of them, send X-Organization-Id: not-a-uuid 4. expect 403 with the envelope.
    """
    found = Violations()
    candidates = operations(kit, lambda op: requires_organization(kit, op))
    with identity(api, org_id=None) as nowhere:
        expect_refusals(kit, nowhere, candidates, found, "/req/organization/header-required", [403], "without X-Organization-Id")
    with identity(api, org_id="not-a-uuid") as malformed:
        expect_refusals(kit, malformed, sample(kit, candidates, "header-not-uuid"), found, "/req/organization/header-required", [403],
                        "with X-Organization-Id: not-a-uuid")
    found.raise_any()


@pytest.mark.requirement("/req/organization/member-only")
def test_member_only(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/organization/member-only (an X-Organization-Id the caller is not a member of is answered 403).
    Test purpose: tenant A's user cannot act in tenant B's organization, nor in an organization id nobody gave it.
    Test method: 1. when tenant B is given, for every operation send tenant A's token with tenant B's organization id
    2. on a deterministic sample of operations, send tenant A's token with a random v4 organization id 3. expect 403 with the envelope.
    """
    found = Violations()
    candidates = operations(kit, lambda op: requires_organization(kit, op))
    foreign_orgs = []
    if kit.settings.has_tenant_b and kit.settings.org_b != kit.settings.org_a:
        foreign_orgs.append(("tenant B's organization", kit.settings.org_b, candidates))
    foreign_orgs.append(("a random organization id", random_uuid4(kit), sample(kit, candidates, "member-only-random-org")))
    for what, org_id, chosen in foreign_orgs:
        with identity(api, org_id=org_id) as intruder:
            expect_refusals(kit, intruder, chosen, found, "/req/organization/member-only", [403], f"as tenant A in {what}")
    found.raise_any()


def _changed_field(kit: KitSession, operation: Operation, lead: dict[str, Any]) -> dict[str, Any] | None:
    """For an update, a body that would really change the lead (one free-text field), so a leaked write shows."""
    schema = request_schema(kit, operation)
    if operation.method not in ("patch", "put") or not schema:
        return None
    for name in sorted(schema.get("properties") or {}):
        prop = resolve(kit.spec.document, schema["properties"][name])
        kinds = prop.get("type") if isinstance(prop.get("type"), list) else [prop.get("type")]
        plain = "string" in kinds and not {"pattern", "format", "enum", "const"} & set(prop) and not name.endswith("_id")
        if plain and isinstance(lead.get(name), str):
            return {name: (lead[name] + " (tenant A)")[: prop.get("maxLength", 200)]}
    return None


def _normalized(exchange: Exchange, *ids: str) -> tuple[int, str | None, str | None]:
    """Status, error code and message, with the ids of the request replaced so two 404s can be compared."""
    error = error_of(exchange) or {}
    message = error.get("message")
    if isinstance(message, str):
        for value in ids:
            message = message.replace(value, "<id>")
    return exchange.status, error.get("code"), message


@pytest.mark.requirement("/req/organization/foreign-resource-404")
def test_foreign_lead_is_404(kit: KitSession, api: KitClient, api_b: KitClient) -> None:
    """Requirement: /req/organization/foreign-resource-404 (another organization's resource is answered 404, exactly like one that does not exist).
    Test purpose: tenant A can neither read, change, delete nor add to tenant B's lead, and cannot tell it exists.
    Test method: 1. create a lead as tenant B and read it back as B 2. for every operation on one lead (its read, update, delete
    and sub-collections, from the spec; the delete last), send it as tenant A with B's lead id, and the same request with a random
    v4 id (an update changes one free-text field of the lead; other bodies are the documented examples) 3. expect 404 for both,
    with the same error code and message 4. read the lead as B: it still exists, unchanged.
    """

    name, nested = nested_operations(kit, LEAD_COLLECTION)
    item_get = next((op for op in nested if op.method == "get" and op.path == f"{LEAD_COLLECTION}/{{{name}}}"), None)
    if item_get is None:
        pytest.skip(f"the spec has no GET {LEAD_COLLECTION}/{{{name}}} to read the lead back")
    lead = create_lead(kit, api_b)
    lead_id = str(lead["id"])
    before = build(kit, item_get, {name: lead_id}).send(api_b)
    if before.status != 200:
        pytest.skip(f"tenant B cannot read its own new lead, so A's attempts cannot be judged: {before.describe()[:200]}")
    found = Violations()
    for operation in sorted(nested, key=lambda op: (METHOD_ORDER.get(op.method, 9), op.path)):
        with found.collect():
            attempt = build(kit, operation, {name: lead_id}, body=_changed_field(kit, operation, lead) or ...)
            foreign = attempt.send(api)
            missing_id = random_uuid4(kit)
            missing = build(kit, operation, {name: missing_id}, body=attempt.body).send(api)
            what = f"{label(operation)} as tenant A on tenant B's lead"
            expect_error(kit, operation, foreign, "/req/organization/foreign-resource-404", [404], what)
            if _normalized(foreign, lead_id) != _normalized(missing, missing_id):
                shown = _normalized(missing, missing_id)
                raise violation("/req/organization/foreign-resource-404",
                                f"{what}: the same answer as for a lead that does not exist (status {shown[0]}, code {shown[1]!r}, message {shown[2]!r})",
                                foreign.describe(), foreign)
    after = build(kit, item_get, {name: lead_id}).send(api_b)
    with found.collect():
        if after.status != 200 or after.response_body != before.response_body:
            raise violation("/req/organization/foreign-resource-404", "tenant B's lead still there and unchanged after tenant A's attempts",
                            f"before: {before.describe()[:300]} / after: {after.describe()[:300]}", after)
    found.raise_any()


@pytest.mark.requirement("/req/organization/list-isolation")
def test_lists_isolated(kit: KitSession, api: KitClient, api_b: KitClient) -> None:
    """Requirement: /req/organization/list-isolation (lists show only the organization's own resources).
    Test purpose: a lead tenant B creates never appears in tenant A's list of leads.
    Test method: 1. create a lead as tenant B carrying a tag of its own 2. walk B's list of leads filtered by that tag: the lead is
    there (the filter works) 3. walk A's list filtered by the same tag 4. expect no lead of B, and no lead with B's tag, in A's list.
    """

    list_op = find(kit, "GET", LEAD_COLLECTION)
    if list_op is None or not list_op.is_list:
        pytest.skip(f"the spec has no list operation at {LEAD_COLLECTION}")
    has_tag_filter = any(p["in"] == "query" and p["name"] == "tag" for p in list_op.parameters(kit.spec.document))
    tag_b = f"{kit.tag}-b"
    lead = create_lead(kit, api_b, tags=[kit.tag, tag_b])
    query = {"tag": tag_b} if has_tag_filter else {}
    own, _ = walk(api_b, LEAD_COLLECTION, query, limit=50)
    if not any(item.get("id") == lead["id"] for item in own):
        pytest.skip(f"tenant B's own list{' filtered by tag' if query else ''} does not show its new lead, so isolation cannot be judged")
    seen, pages = walk(api, LEAD_COLLECTION, query, limit=50)
    leaked = [item for item in seen if item.get("id") == lead["id"] or tag_b in (item.get("tags") or [])]
    if leaked:
        raise violation("/req/organization/list-isolation", f"no lead of tenant B in tenant A's {label(list_op)}",
                        f"{len(leaked)} leaked, e.g. {str(leaked[0])[:300]}", pages[-1])


@pytest.mark.requirement("/req/organization/roles")
def test_roles_left_out_are_refused(kit: KitSession) -> None:
    """Requirement: /req/organization/roles (roles are enforced; a viewer's write is answered 403 `insufficient_role`).
    Test purpose: a member or a viewer of tenant A's organization gets 403 insufficient_role on every operation whose
    x-apollospace-roles leaves that role out, before anything happens.
    Test method: 1. for the member and the viewer token given 2. for every operation whose roles exclude that role, send the
    documented example request (operations without path ids) 3. expect 403 with the envelope and code insufficient_role.
    """
    tokens = {"member": kit.settings.member_token, "viewer": kit.settings.viewer_token}
    if not any(tokens.values()):
        pytest.skip("no member or viewer credentials (--member-token, --viewer-token)")
    problems = Violations()
    for role, token in sorted(tokens.items()):
        if not token:
            continue
        # Operations without path ids: with a random id, 404 before 403 would be as right as 403.
        refused = [op for op in operations(kit) if "{" not in op.path and role not in op.definition.get("x-apollospace-roles", (role,))]
        with identity(kit.tenant_a, token=token) as client:
            for operation in sample(kit, refused, f"roles-{role}"):
                with problems.collect():
                    exchange = build(kit, operation).send(client)
                    if exchange.status != 403 or (error_of(exchange) or {}).get("code") != "insufficient_role":
                        raise violation("/req/organization/roles", f"403 insufficient_role for a {role} on {label(operation)}", exchange.describe(), exchange)
    problems.raise_any()
