"""Organization: the X-Organization-Id header, membership and roles.

Tenant A and tenant B are two organizations whose users are not members of each
other's organization. Every operation comes from the spec. Tenant isolation
(foreign resources and lists, on every surface) is in test_isolation.py.
"""

from __future__ import annotations

import pytest

from apollospace_conformance.checks import violation
from apollospace_conformance.http import KitClient
from apollospace_conformance.session import KitSession

from ._requests import (
    Violations,
    build,
    error_of,
    expect_refusals,
    identity,
    label,
    operations,
    random_uuid4,
    requires_organization,
    sample,
)


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
