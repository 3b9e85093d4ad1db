"""Tenant isolation on every resource surface of the spec (conformance class `organization`).

Tenant B tries every operation that names a resource by id on tenant A's
resources, and walks every list it can reach, looking for tenant A's. The
operations and the lists come from the spec; tenant A's ids from the run's own
resources, ones made harmlessly for the purpose, or A's own lists (see
_isolation). Deletes and actions are only tried on what the kit made, updates
only with the current values, and anything a broken server lets through is
undone where the API can.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from apollospace_conformance import runtime
from apollospace_conformance.checks import violation
from apollospace_conformance.evidence import not_exercised
from apollospace_conformance.http import Exchange, KitClient
from apollospace_conformance.session import KitSession
from apollospace_spec.model import Operation

from ._isolation import (
    FOREIGN,
    LISTS,
    OWN_WALK_PAGES,
    Owned,
    Tenant,
    body_of,
    bounded_walk,
    clean_up_leak,
    fill,
    first_difference,
    id_surfaces,
    item_parameter,
    list_operations,
    max_limit,
    normalized,
    query_parameters,
    readable_prefix,
    representation,
    settled_read,
    unchanged_body,
)
from ._requests import (
    Violations,
    build,
    error_code,
    example_body,
    expect_error,
    label,
    path_parameters,
    random_uuid4,
)

_KIT = runtime.require().state
SURFACES = id_surfaces(_KIT)
LIST_OPERATIONS = {op.operation_id: op for op in list_operations(_KIT)}
B_LIST_PAGES = 10  # pages of the largest limit tenant B walks of each of its lists


@dataclass
class Isolation:
    """Both tenants of the run, with what each has been found to own, and tenant A's ids per list."""

    a: Tenant
    b: Tenant
    a_list_ids: dict[str, set[str]] = field(default_factory=dict)

    def use(self, request: pytest.FixtureRequest) -> Isolation:
        self.a.fixture = self.b.fixture = request.getfixturevalue  # session fixtures (receiver, agent_run) asked for by the test at hand
        return self


@pytest.fixture(scope="module")
def tenants(kit: KitSession, api: KitClient, api_b: KitClient) -> Isolation:
    def unset(name: str) -> Any:
        raise RuntimeError(f"no test is running to ask for the {name} fixture")

    a = Tenant(kit, api, "tenant A", unset, tag=f"{kit.tag}-a")
    # The run's own pipeline and agent run (session fixtures other tests share) are tenant A's resources at /pipelines and /runs.
    a.shared = {"/pipelines": lambda: a.fixture("run_pipeline").id, "/runs": lambda: a.fixture("agent_run").run_id}
    return Isolation(a, Tenant(kit, api_b, "tenant B", unset, tag=f"{kit.tag}-b"))


@pytest.fixture
def isolation(tenants: Isolation, request: pytest.FixtureRequest) -> Isolation:
    return tenants.use(request)


# --- /req/organization/foreign-resource-404 -----------------------------------------------------


@dataclass
class Probe:
    """One request of tenant B naming tenant A's resource, and its twin naming ids that do not exist."""

    operation: Operation
    values: dict[str, str]  # the path as sent: tenant A's ids, or tenant B's parent and tenant A's child
    theirs: list[str]  # which of those ids are tenant A's (random v4 ids in the twin)
    body: Any
    what: str


def _unsafe(operation: Operation, target: Owned, body: Any) -> str | None:
    """Why a request may not be tried across tenants on `target` (a broken server would carry it out), or None."""
    if operation.method in ("put", "patch") and body is None:
        return "no update body of the resource's current values could be made from the spec"
    if (operation.method == "delete" or operation.is_action) and not target.disposable:
        return f"its target is {target.origin}, not the kit's own, so a broken server could harm it"
    return None


def _plan(kit: KitSession, isolation: Isolation, operations: list[Operation]) -> tuple[list[Probe], list[str], list[str]]:
    """The probes of a surface, the readable paths of tenant A's resources they touch, and the operations left out, with why."""
    a, b = isolation.a, isolation.b
    probes: list[Probe] = []
    touched: list[str] = []
    left_out: list[str] = []
    for operation in operations:
        names = path_parameters(kit, operation)
        owned = a.values(operation.path, names)
        if owned is None:
            missing = next(name for name in names if a.owned.get(name) is None)
            left_out.append(f"{label(operation)}: tenant A has no {missing} to aim at ({a.why.get(missing, 'none found')})")
            continue
        mine = {name: value.id for name, value in owned.items()}
        target = owned[names[-1]]
        body: Any = None
        if operation.method in ("put", "patch"):
            current = representation(kit, a.client, operation.path, mine)
            body = unchanged_body(kit, operation, current[0] if current else None)
        elif operation.method == "post":
            body = example_body(kit, operation)
        reason = _unsafe(operation, target, body)
        if reason is not None:
            left_out.append(f"{label(operation)}: {reason}")
            continue
        prefix = readable_prefix(kit, operation.path)
        if prefix is not None and fill(prefix, mine) not in touched:
            touched.append(fill(prefix, mine))
        kinds = ", ".join(f"{name} ({value.origin})" for name, value in owned.items())
        probes.append(Probe(operation, mine, list(mine.values()), body, f"{label(operation)} as tenant B with tenant A's {kinds}"))
        if len(names) > 1:  # tenant B's own parent, tenant A's child: the child must be looked up within the parent
            parents = b.values(operation.path, names[:-1])
            if parents is None:
                missing = next(name for name in names[:-1] if b.owned.get(name) is None)
                left_out.append(f"{label(operation)} under tenant B's own {missing}: tenant B has none ({b.why.get(missing, 'none found')})")
                continue
            mixed = {**{name: value.id for name, value in parents.items()}, names[-1]: target.id}
            probes.append(Probe(operation, mixed, [target.id], body,
                                f"{label(operation)} as tenant B with its own {', '.join(names[:-1])} and tenant A's {names[-1]} ({target.origin})"))
    return probes, touched, left_out


def _send(kit: KitSession, isolation: Isolation, probe: Probe) -> str | None:
    """Send a probe and its twin as tenant B and judge the probe; returns why it could not be judged, if so."""
    client = isolation.b.client
    stand_ins = {value: random_uuid4(kit) for value in probe.theirs}
    twin_values = {name: stand_ins.get(value, value) for name, value in probe.values.items()}
    twin = build(kit, probe.operation, twin_values, body=probe.body).send(client)
    if twin.status == 403 and error_code(twin) == "insufficient_role":
        return f"{label(probe.operation)}: tenant B's role may not call it ({twin.describe()[:120]})"
    foreign = build(kit, probe.operation, probe.values, body=probe.body).send(client)
    if 200 <= foreign.status < 300:
        clean_up_leak(kit, [isolation.a.client, client], foreign)
    expect_error(kit, probe.operation, foreign, FOREIGN, [404], probe.what)
    shown, expected = normalized(foreign, probe.theirs), normalized(twin, list(stand_ins.values()))
    if shown != expected:
        raise violation(FOREIGN, f"{probe.what}: the same answer as for ids that do not exist (status {expected[0]}, code {expected[1]!r}, "
                                 f"message {expected[2]!r})", foreign.describe(), foreign)
    kit.exercised(FOREIGN, foreign)
    return None


@pytest.mark.requirement(FOREIGN)
@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_foreign_resources_answer_404(kit: KitSession, isolation: Isolation, surface: str) -> None:
    """Requirement: /req/organization/foreign-resource-404 (another organization's resource is answered 404, exactly like one that does not exist).
    Test purpose: tenant B can neither read, change, delete nor act on tenant A's resources of the surface, and cannot tell they exist.
    Test method: 1. for every operation of the surface whose path names a resource by id (from the spec), find or make tenant A's
    resources for its path parameters 2. read each as tenant A until it holds still 3. send every operation as tenant B with A's ids
    (reads; updates setting the current values; creates and actions under it; the delete last; deletes and actions only on what the
    kit made), and for a nested path also with B's own parent and A's child 4. send each again with random v4 ids in place of A's
    5. expect 404 with the envelope, the same code and message as for the ids that do not exist 6. read A's resources as A: unchanged.
    """
    a = isolation.a
    probes, touched, left_out = _plan(kit, isolation, SURFACES[surface])
    before: dict[str, tuple[Exchange, bool]] = {path: settled_read(a.client, path) for path in touched}
    found = Violations()
    for probe in probes:
        with found.collect():
            unjudged = _send(kit, isolation, probe)
            if unjudged is not None:
                left_out.append(unjudged)
    for path, (earlier, settled) in before.items():
        if not settled:
            continue  # it kept changing on its own: nothing to compare against
        later, _ = settled_read(a.client, path)
        with found.collect():
            if later.status != earlier.status:
                raise violation(FOREIGN, f"tenant A's {path} still there after tenant B's attempts", f"now: {later.describe()[:300]}", later)
            changed = first_difference(earlier.response_body, later.response_body)
            if changed:
                raise violation(FOREIGN, f"tenant A's {path} unchanged after tenant B's attempts", f"changed: {changed}", later)
    found.raise_any()
    if left_out:
        not_exercised(f"{len(left_out)} operation(s) of the {surface} surface were not tried across tenants: " + "; ".join(left_out),
                      "give tenant A a resource of each kind named (or let the kit create one), and tenant B an owner or admin token")


# --- /req/organization/list-isolation -------------------------------------------------------------


def _tenant_a_ids(kit: KitSession, isolation: Isolation, operation: Operation, values: dict[str, str]) -> set[str]:
    """Ids of tenant A's items of a list: from A's own list, plus A's resource of that kind, plus one made under A's parent when it is empty."""
    if operation.operation_id in isolation.a_list_ids:
        return isolation.a_list_ids[operation.operation_id]
    a = isolation.a
    items, _, _ = bounded_walk(a.client, fill(operation.path, values), {}, max_limit(kit, operation), OWN_WALK_PAGES)
    ids = {str(item["id"]) for item in items if item.get("id")}
    item_name = item_parameter(kit, operation)
    if item_name is not None:
        owned = a.resource(item_name, f"{operation.path}/{{{item_name}}}", values)
        if owned is not None:
            ids.add(owned.id)
    names = path_parameters(kit, operation)
    if not ids and names and a.owned.get(names[-1]) is not None and a.owned[names[-1]].disposable:  # type: ignore[union-attr]
        made = a.make_child(operation, values)
        if made is not None:
            ids.add(made)
    isolation.a_list_ids[operation.operation_id] = ids
    return ids


@pytest.mark.requirement(LISTS)
@pytest.mark.parametrize("operation_id", sorted(LIST_OPERATIONS))
def test_lists_show_only_own_resources(kit: KitSession, isolation: Isolation, operation_id: str) -> None:
    """Requirement: /req/organization/list-isolation (lists show only the resources of the organization named by X-Organization-Id).
    Test purpose: none of tenant A's resources appears in tenant B's list, whichever list of the spec it is.
    Test method: 1. learn tenant A's ids in the list (A's own walk of it, A's resource of that kind, and for a list under a parent
    the kit made, one item made there if it is empty) 2. walk tenant B's list (under B's own parent for a nested list; also filtered
    by A's tag where the list has a tag filter), up to 10 pages of the largest limit 3. expect none of A's ids in B's pages.
    """
    operation = LIST_OPERATIONS[operation_id]
    a, b = isolation.a, isolation.b
    names = path_parameters(kit, operation)
    mine = a.values(operation.path, names)
    if mine is None:
        missing = next(name for name in names if a.owned.get(name) is None)
        not_exercised(f"tenant A has no {missing} to list under ({a.why.get(missing)})", f"give tenant A a resource of the {missing} kind")
    theirs = _tenant_a_ids(kit, isolation, operation, {name: value.id for name, value in mine.items()})
    if not theirs:
        not_exercised(f"tenant A's {operation_id} is empty, so nothing of A's could show in B's", f"give tenant A an item of {operation.path}")
    own = b.values(operation.path, names)
    if own is None:
        missing = next(name for name in names if b.owned.get(name) is None)
        not_exercised(f"tenant B has no {missing} to list under ({b.why.get(missing)})", f"give tenant B a resource of the {missing} kind")
    path = fill(operation.path, {name: value.id for name, value in own.items()})
    queries: list[dict[str, Any]] = [{}]
    if "tag" in query_parameters(kit, operation) and a.tag:
        queries.append({"tag": a.tag})  # narrowed to what tenant A tagged: a leak needs no long walk to show
    walked = 0
    for query in queries:
        items, pages, refused = bounded_walk(b.client, path, query, max_limit(kit, operation), B_LIST_PAGES)
        shown = f"tenant B's {label(operation)}" + (f" filtered by {query}" if query else "")
        leaked = [item for item in items if str(item.get("id")) in theirs]
        if leaked:
            page = next(p for p in pages if any(str(i.get("id")) in theirs for i in body_of(p).get("items") or [] if isinstance(i, dict)))
            raise violation(LISTS, f"none of tenant A's resources in {shown}",
                            f"{len(leaked)} of tenant A's, e.g. {str(leaked[0])[:300]}", page)
        if refused is not None and not pages:
            if refused.status == 403 and error_code(refused) == "insufficient_role":
                not_exercised(f"tenant B's role may not call {operation_id}", "give tenant B an owner or admin token")
            not_exercised(f"{shown} answered no page: {refused.describe()[:200]}", f"a tenant B that can list {operation.path}")
        for page in pages:
            kit.exercised(LISTS, page)
        walked += len(pages)
    if not walked:
        not_exercised(f"tenant B's {operation_id} answered no page", f"a tenant B that can list {operation.path}")
