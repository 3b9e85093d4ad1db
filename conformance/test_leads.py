"""Leads: default stage, list filters, deletion, bulk imports, the activity timeline.

Every lead the tests create carries the run's tag and is deleted at the end
(leads made by an import, which have no Location of their own, are deleted by
the test that imported them).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from apollospace_conformance.checks import violation
from apollospace_conformance.http import Exchange, KitClient
from apollospace_conformance.resources import (
    create_lead,
    expect_status,
    first_pipeline_id,
    lead_body,
    walk,
    was_created,
)
from apollospace_conformance.session import KitSession

from ._requests import error_code, random_uuid4
from .conftest import RunPipeline, body_of, idempotency_key

IMPORT_TIMEOUT_SECONDS = 60.0
IMPORT_STATUS_ORDER = {"queued": 0, "running": 1, "succeeded": 2, "failed": 2}
# The count each row outcome adds to; a dry run's would_* outcomes count as their real ones (LeadImportCounts).
COUNTED_AS = {"created": "created", "would_create": "created", "updated": "updated", "would_update": "updated",
              "skipped": "skipped", "would_skip": "skipped", "failed": "failed"}
CLOCK_STEP_SECONDS = 1.1  # a pause that separates timestamps even on a server that keeps whole seconds




def _instant(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _subtag(kit: KitSession, name: str) -> str:
    """A tag only this test's leads carry (at most 50 characters)."""
    return f"{kit.tag}-{name}"[:50]


def _pipeline(api: KitClient, pipeline_id: str, requirement: str) -> dict[str, Any]:
    read = api.get(f"/pipelines/{pipeline_id}")
    if read.status != 200 or not isinstance(body_of(read).get("stages"), list):
        raise violation(requirement, f"200 with pipeline {pipeline_id}", read.describe(), read)
    return body_of(read)


def _active_stages(pipeline: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted((stage for stage in pipeline["stages"] if not stage.get("archived")), key=lambda stage: stage["position"])


def _tagged(api: KitClient, tag: str) -> tuple[list[dict[str, Any]], list[Exchange]]:
    return walk(api, "/leads", {"tag": tag}, limit=50, max_pages=40)


def _delete_tagged(api: KitClient, tag: str) -> None:
    """Best-effort removal of every lead carrying `tag` (leads an import created)."""
    try:
        items, _ = _tagged(api, tag)
    except Exception:  # cleanup must not hide the test's own outcome
        return
    for item in items:
        api.delete(f"/leads/{item['id']}")


def _email(kit: KitSession, name: str) -> str:
    return f"{name}.{kit.run_id}.{kit.random.randrange(10**6)}@example.com"


def _phone(kit: KitSession) -> str:
    return f"+1555{kit.random.randrange(10**7):07d}"


# --- default stage ----------------------------------------------------------------------------


@pytest.mark.requirement("/req/leads/default-stage")
def test_lead_without_stage_enters_first_active_stage(kit: KitSession, api: KitClient, run_pipeline: RunPipeline) -> None:
    """Requirement: /req/leads/default-stage (a lead created without stage_id enters its pipeline's first active stage).
    Test purpose: createLead places a lead with no stage_id in the first active stage, and one with a stage_id where asked.
    Test method: 1. read the organization's first pipeline and the run's pipeline 2. create a lead in each without
    stage_id: expect the first active stage (by position), its id and its name 3. create a lead with the second active
    stage's id: expect that stage (the control) 4. read the first lead back: same stage.
    """
    requirement = "/req/leads/default-stage"
    pipelines = [first_pipeline_id(api)]
    if run_pipeline.id is not None:
        pipelines.append(run_pipeline.id)
    for pipeline_id in pipelines:
        active = _active_stages(_pipeline(api, pipeline_id, requirement))
        if not active:
            continue
        created = api.post("/leads", lead_body(kit, pipeline_id))
        kit.remember_created(api, created)
        lead = expect_status(created, 201, "/req/status-codes/created-201", "createLead with a valid body")
        if lead.get("stage_id") != active[0]["id"] or lead.get("stage") != active[0]["name"]:
            raise violation(requirement, f"stage_id {active[0]['id']} ({active[0]['name']!r}), the first active stage of pipeline {pipeline_id}",
                            f"stage_id {lead.get('stage_id')!r} ({lead.get('stage')!r})", created)
        read = api.get(f"/leads/{lead['id']}")
        if body_of(read).get("stage_id") != active[0]["id"]:
            raise violation(requirement, f"the lead still in stage {active[0]['id']} when read back", read.describe(), read)
        if len(active) > 1:
            placed = api.post("/leads", lead_body(kit, pipeline_id, stage_id=active[1]["id"]))
            kit.remember_created(api, placed)
            if not was_created(placed) or body_of(placed).get("stage_id") != active[1]["id"]:
                raise violation(requirement, f"a created lead in stage {active[1]['id']}, the stage_id it was created with", placed.describe(), placed)


# --- filters ------------------------------------------------------------------------------------


@pytest.mark.requirement("/req/leads/filters")
def test_every_filter_returns_exactly_the_matching_leads(kit: KitSession, api: KitClient, run_pipeline: RunPipeline) -> None:
    """Requirement: /req/leads/filters (every filter of listLeads returns exactly the leads that match it).
    Test purpose: each filter (pipeline_id, stage_id, owner_id, tag, q, created and updated ranges) keeps every matching
    lead and only matching leads.
    Test method: 1. create six tagged leads in two batches a second apart, spread over two pipelines and two stages,
    some with a second tag, and a run-unique token in a name, a company and an email 2. add a note to learn the
    caller's user id, a second later update three leads (two get that user as owner) 3. read the six leads back
    4. for each filter, combined with the test's tag, walk listLeads and check every returned lead matches, every
    matching lead of the six is returned and no other of the six is; q is also checked alone, in upper case.
    """
    requirement = "/req/leads/filters"
    tag, subset = _subtag(kit, "flt"), _subtag(kit, "flt-s")
    token = f"zq{kit.run_id[:8]}"
    first = first_pipeline_id(api)
    first_stages = _active_stages(_pipeline(api, first, requirement))
    second = run_pipeline.id
    if second is None:
        others = [item["id"] for item in body_of(api.get("/pipelines", params={"limit": 10})).get("items") or [] if item["id"] != first]
        second = others[0] if others else first
    stage_b = first_stages[1]["id"] if len(first_stages) > 1 else None
    plans: list[tuple[str, dict[str, Any]]] = [
        (first, {"tags": [kit.tag, tag, subset]}),
        (first, {"tags": [kit.tag, tag], **({"stage_id": stage_b} if stage_b else {})}),
        (second, {"tags": [kit.tag, tag], "company_name": f"Orbital {token.upper()} Ltda"}),
        (first, {"tags": [kit.tag, tag, subset], "email": f"{token}.{kit.random.randrange(10**6)}@example.com"}),
        (second, {"tags": [kit.tag, tag, subset]}),
        (second, {"tags": [kit.tag, tag], "contact_name": f"Ana {token.capitalize()}"}),
    ]
    leads: list[dict[str, Any]] = []
    me = None
    for number, (pipeline_id, overrides) in enumerate(plans):
        if number == 3:
            time.sleep(CLOCK_STEP_SECONDS)
        leads.append(create_lead(kit, api, pipeline_id, **overrides))
        if number == 0:
            note = api.post(f"/leads/{leads[0]['id']}/activities", {"body": "Who am I? (conformance filters test)"})
            actor = body_of(note).get("actor") or {}
            me = actor.get("id") if note.status == 201 and actor.get("type") == "user" else None
    time.sleep(CLOCK_STEP_SECONDS)
    updates = {1: {"value_cents": 1234, **({"owner_id": me} if me else {})}, 4: {"value_cents": 5678, **({"owner_id": me} if me else {})}, 5: {"city": "Campinas"}}
    for index, change in updates.items():
        changed = api.patch(f"/leads/{leads[index]['id']}", change)
        if changed.status != 200:
            raise violation(requirement, "200 updating a test lead", changed.describe(), changed)
    current = []
    for lead in leads:
        read = api.get(f"/leads/{lead['id']}")
        if read.status != 200:
            raise violation(requirement, f"200 reading test lead {lead['id']}", read.describe(), read)
        current.append(body_of(read))
    mine = {lead["id"]: lead for lead in current}
    created_edge = current[3]["created_at"]
    updated_edge = min((current[index]["updated_at"] for index in updates), key=_instant)

    def has(value: str, name: str = "tags") -> Callable[[dict[str, Any]], bool]:
        return lambda lead: value in (lead.get(name) or [])

    def equals(name: str, value: Any) -> Callable[[dict[str, Any]], bool]:
        return lambda lead: lead.get(name) == value

    def text(lead: dict[str, Any]) -> bool:
        return any(token in (lead.get(name) or "").lower() for name in ("contact_name", "company_name", "email"))

    def at_or_after(name: str, edge: str) -> Callable[[dict[str, Any]], bool]:
        return lambda lead: _instant(lead[name]) >= _instant(edge)

    def before(name: str, edge: str) -> Callable[[dict[str, Any]], bool]:
        return lambda lead: _instant(lead[name]) < _instant(edge)

    in_tag = has(tag)
    cases: list[tuple[str, dict[str, Any], Callable[[dict[str, Any]], bool]]] = [
        (f"tag={tag}", {"tag": tag}, in_tag),
        (f"tag={subset}", {"tag": subset}, has(subset)),
        (f"pipeline_id={first}", {"pipeline_id": first}, equals("pipeline_id", first)),
        (f"stage_id={first_stages[0]['id']}", {"stage_id": first_stages[0]["id"]}, equals("stage_id", first_stages[0]["id"])),
        (f"q={token.upper()}", {"q": token.upper()}, text),
        (f"created_after={created_edge}", {"created_after": created_edge}, at_or_after("created_at", created_edge)),
        (f"created_before={created_edge}", {"created_before": created_edge}, before("created_at", created_edge)),
        (f"updated_after={updated_edge}", {"updated_after": updated_edge}, at_or_after("updated_at", updated_edge)),
        (f"updated_before={updated_edge}", {"updated_before": updated_edge}, before("updated_at", updated_edge)),
    ]
    if second != first:
        cases.append((f"pipeline_id={second}", {"pipeline_id": second}, equals("pipeline_id", second)))
    if stage_b:
        cases.append((f"stage_id={stage_b}", {"stage_id": stage_b}, equals("stage_id", stage_b)))
    if me:
        cases.append((f"owner_id={me}", {"owner_id": me}, equals("owner_id", me)))
    checks = [(name, {**params, "tag": tag}, lambda lead, p=predicate: p(lead) and in_tag(lead)) for name, params, predicate in cases if "tag" not in params]
    checks += [(name, params, predicate) for name, params, predicate in cases if "tag" in params]
    checks.append((f"q={token.upper()} alone", {"q": token.upper()}, text))
    for _name, params, predicate in checks:
        items, pages = walk(api, "/leads", params, limit=50, max_pages=40)
        shown = " & ".join(f"{key}={value}" for key, value in params.items())
        stray = next((item for item in items if not predicate(item)), None)
        if stray is not None:
            raise violation(requirement, f"only leads matching {shown}", f"lead {stray.get('id')} does not match: {repr(stray)[:300]}", pages[-1])
        returned = {item["id"] for item in items}
        expected = {lead_id for lead_id, lead in mine.items() if predicate(lead)}
        missing = expected - returned
        if missing:
            raise violation(requirement, f"every matching test lead for {shown}: {sorted(expected)}", f"missing {sorted(missing)}", pages[-1])
        wrong = (set(mine) - expected) & returned
        if wrong:
            raise violation(requirement, f"no test lead that does not match {shown}", f"returned {sorted(wrong)}", pages[-1])
        if len(items) != len(returned):
            raise violation(requirement, f"each matching lead once for {shown}", f"{len(items)} items for {len(returned)} leads", pages[-1])


# --- delete ---------------------------------------------------------------------------------------


@pytest.mark.requirement("/req/leads/delete-then-404")
def test_deleted_lead_is_404(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/leads/delete-then-404 (a deleted lead is answered 404 afterwards).
    Test purpose: after deleteLead, every operation on the lead is 404 lead_not_found and lists no longer show it.
    Test method: 1. create a lead with a tag of its own 2. delete it: expect 204 3. getLead, updateLead, deleteLead and
    listLeadActivities: expect 404 lead_not_found each 4. listLeads by its tag: expect no item.
    """
    requirement = "/req/leads/delete-then-404"
    own = _subtag(kit, "del")
    lead = create_lead(kit, api, tags=[kit.tag, own])
    deleted = api.delete(f"/leads/{lead['id']}")
    if deleted.status != 204:
        raise violation(requirement, "204 deleting the lead", deleted.describe(), deleted)
    for exchange in (api.get(f"/leads/{lead['id']}"), api.patch(f"/leads/{lead['id']}", {"city": "Recife"}),
                     api.delete(f"/leads/{lead['id']}"), api.get(f"/leads/{lead['id']}/activities")):
        if exchange.status != 404 or error_code(exchange) != "lead_not_found":
            raise violation(requirement, f"404 lead_not_found for {exchange.method} on the deleted lead", exchange.describe(), exchange)
    items, pages = _tagged(api, own)
    if items:
        raise violation(requirement, "no lead listed under the deleted lead's tag", repr([item.get("id") for item in items]), pages[-1])


# --- imports --------------------------------------------------------------------------------------


def _start_import(api: KitClient, body: dict[str, Any], requirement: str) -> Exchange:
    created = api.post("/lead-imports", body, headers=idempotency_key())
    if not was_created(created):
        raise violation(requirement, "the import job created", created.describe(), created)
    return created


def _follow_import(api: KitClient, import_id: str, requirement: str) -> tuple[dict[str, Any], list[Exchange]]:
    """Poll getLeadImport until completed_at is set (bounded); statuses must only move forward."""
    deadline = time.monotonic() + IMPORT_TIMEOUT_SECONDS
    reads: list[Exchange] = []
    pause, rank = 0.05, 0
    while True:
        read = api.get(f"/lead-imports/{import_id}")
        reads.append(read)
        job = body_of(read)
        if read.status != 200:
            raise violation(requirement, "200 reading the import job", read.describe(), read)
        status_rank = IMPORT_STATUS_ORDER.get(job.get("status"), -1)
        if status_rank < rank:
            raise violation(requirement, "an import status that only moves forward (queued, running, then succeeded or failed)", read.describe(), read)
        rank = status_rank
        if job.get("completed_at"):
            if job.get("status") not in ("succeeded", "failed"):
                raise violation(requirement, "completed_at set only once the job succeeded or failed", read.describe(), read)
            return job, reads
        if time.monotonic() >= deadline:
            raise violation(requirement, f"the import job completed within {IMPORT_TIMEOUT_SECONDS:.0f} s", read.describe(), read)
        time.sleep(pause)
        pause = min(pause * 1.5, 1.0)


def _run_import(api: KitClient, body: dict[str, Any], requirement: str) -> tuple[dict[str, Any], Exchange]:
    created = _start_import(api, body, requirement)
    job, reads = _follow_import(api, body_of(created)["id"], requirement)
    if job.get("status") != "succeeded":
        raise violation(requirement, "the import job succeeded (rows failing on their own do not fail the job)", reads[-1].describe(), reads[-1])
    return job, reads[-1]


def _check_outcomes(job: dict[str, Any], expected: list[tuple[str, str | None]], requirement: str, read: Exchange) -> None:
    """`expected`: (outcome, lead_id or '*' for any id or None) per row, in order; counts must agree."""
    results = job.get("results") or []
    shown = [(result.get("outcome"), result.get("lead_id")) for result in results]
    if [result.get("row_index") for result in results] != list(range(len(expected))):
        raise violation(requirement, f"one result per row, row_index 0..{len(expected) - 1}", repr(shown), read)
    for index, ((outcome, lead_id), result) in enumerate(zip(expected, results, strict=True)):
        if result.get("outcome") != outcome or (lead_id == "*" and not result.get("lead_id")) or (lead_id != "*" and result.get("lead_id") != lead_id):
            want = "a lead id" if lead_id == "*" else repr(lead_id)
            raise violation(requirement, f"row {index}: outcome {outcome} with lead_id {want}", f"{result.get('outcome')} with lead_id {result.get('lead_id')!r}", read)
        if (outcome == "failed") != bool(result.get("error")):
            raise violation(requirement, f"row {index}: an error exactly when the outcome is failed", repr(result), read)
    tally = {"total": len(expected), "created": 0, "updated": 0, "skipped": 0, "failed": 0}
    for outcome, _ in expected:
        tally[COUNTED_AS[outcome]] += 1
    if job.get("counts") != tally:
        raise violation(requirement, f"counts {tally}", repr(job.get("counts")), read)


@pytest.mark.requirement("/req/leads/import-job", "/req/leads/default-stage")
def test_import_is_an_async_job_with_one_result_per_row(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/leads/import-job (an asynchronous job that ends with one result per row and imports no row twice).
    Test purpose: createLeadImport answers at once with a queued job that reaches a terminal state, reports every row,
    places imported leads in the first active stage, and a retry with the same Idempotency-Key imports nothing twice.
    Test method: 1. import three new leads and a row whose owner is not a member, with an Idempotency-Key 2. expect 201
    with status queued, no results, completed_at null 3. send the same request with the same key: the same job 4. poll
    the job (bounded) until completed_at: status only moves forward, ends succeeded 5. expect results created, created,
    created, failed (owner_not_member) with matching counts 6. read each imported lead: in the pipeline's first active
    stage 7. list the import's tag: exactly the three leads. The imported leads are deleted at the end.
    """
    requirement = "/req/leads/import-job"
    tag = _subtag(kit, "imp")
    pipeline_id = first_pipeline_id(api)
    rows = [{"contact_name": f"Import {name}", "email": _email(kit, f"import-{name.lower()}"), "phone": _phone(kit), "tags": [kit.tag, tag]}
            for name in ("Rafael", "Beatriz", "Hugo")]
    rows.append({"contact_name": "Import Outsider", "owner_id": random_uuid4(kit), "tags": [kit.tag, tag]})
    body = {"pipeline_id": pipeline_id, "rows": rows}
    key = idempotency_key()
    try:
        created = api.post("/lead-imports", body, headers=key)
        job = body_of(created)
        if created.status != 201 or not job.get("id"):
            raise violation(requirement, "201 with the import job", created.describe(), created)
        expected_start = {"status": "queued", "results": [], "completed_at": None, "dry_run": False, "duplicate_policy": "skip", "pipeline_id": pipeline_id}
        for name, value in expected_start.items():
            if job.get(name) != value:
                raise violation(requirement, f"a new job answered at once with {name} = {value!r}", f"{name} = {job.get(name)!r}", created)
        if (job.get("counts") or {}).get("total") != len(rows):
            raise violation(requirement, f"counts.total = {len(rows)}", repr(job.get("counts")), created)
        replay = api.post("/lead-imports", body, headers=key)
        if replay.status != 201 or body_of(replay).get("id") != job["id"]:
            raise violation(requirement, f"the same job {job['id']} for a retry with the same Idempotency-Key", replay.describe(), replay)
        final, reads = _follow_import(api, job["id"], requirement)
        read = reads[-1]
        if final.get("status") != "succeeded":
            raise violation(requirement, "the job succeeded (a failing row fails alone)", read.describe(), read)
        _check_outcomes(final, [("created", "*"), ("created", "*"), ("created", "*"), ("failed", None)], requirement, read)
        if (final["results"][3].get("error") or {}).get("code") != "owner_not_member":
            raise violation(requirement, "row 3 failed with error code owner_not_member", repr(final["results"][3]), read)
        lead_ids = [result["lead_id"] for result in final["results"][:3]]
        if len(set(lead_ids)) != 3:
            raise violation(requirement, "three distinct leads for three rows", repr(lead_ids), read)
        entry = _active_stages(_pipeline(api, pipeline_id, requirement))[0]
        for lead_id, row in zip(lead_ids, rows, strict=False):
            lead = api.get(f"/leads/{lead_id}")
            if lead.status != 200 or body_of(lead).get("contact_name") != row["contact_name"] or body_of(lead).get("pipeline_id") != pipeline_id:
                raise violation(requirement, f"imported lead {lead_id} readable, in pipeline {pipeline_id}, named {row['contact_name']!r}", lead.describe(), lead)
            if body_of(lead).get("stage_id") != entry["id"]:
                raise violation("/req/leads/default-stage", f"an imported lead in the first active stage {entry['id']} ({entry['name']!r})", lead.describe(), lead)
        items, pages = _tagged(api, tag)
        if sorted(item["id"] for item in items) != sorted(lead_ids):
            raise violation(requirement, f"exactly the three imported leads under the import's tag (no row imported twice): {sorted(lead_ids)}",
                            repr(sorted(item["id"] for item in items)), pages[-1])
    finally:
        _delete_tagged(api, tag)


@pytest.mark.requirement("/req/leads/import-dry-run")
def test_dry_run_import_changes_nothing(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/leads/import-dry-run (a dry run reports what it would do and creates or changes nothing).
    Test purpose: with dry_run, every row gets a would_* outcome, duplicates are matched as a real import would,
    and no lead is created or changed.
    Test method: 1. create one lead 2. dry-run import (policy skip) a row duplicating it by email, a new row, and a row
    duplicating that new row: expect would_skip (the lead), would_create (null), would_skip (null: a lead the dry run
    would create) 3. dry-run import (policy update) a row duplicating the lead: expect would_update (the lead) 4. check
    the lead is unchanged and nothing carries the import's tag nor the new row's email.
    """
    requirement = "/req/leads/import-dry-run"
    tag = _subtag(kit, "dry")
    pipeline_id = first_pipeline_id(api)
    existing = create_lead(kit, api, pipeline_id, email=_email(kit, "dry-existing"))
    fresh_email = _email(kit, "dry-new")
    try:
        job, read = _run_import(api, {"pipeline_id": pipeline_id, "dry_run": True, "duplicate_policy": "skip", "rows": [
            {"contact_name": "Dry Duplicate", "email": existing["email"], "tags": [kit.tag, tag]},
            {"contact_name": "Dry Newcomer", "email": fresh_email, "tags": [kit.tag, tag]},
            {"contact_name": "Dry Newcomer Again", "email": fresh_email, "tags": [kit.tag, tag]},
        ]}, requirement)
        if job.get("dry_run") is not True:
            raise violation(requirement, "dry_run true on the job", read.describe(), read)
        _check_outcomes(job, [("would_skip", existing["id"]), ("would_create", None), ("would_skip", None)], requirement, read)
        job, read = _run_import(api, {"pipeline_id": pipeline_id, "dry_run": True, "duplicate_policy": "update", "rows": [
            {"contact_name": "Dry Update", "email": existing["email"], "city": "Curitiba", "tags": [kit.tag, tag]},
        ]}, requirement)
        _check_outcomes(job, [("would_update", existing["id"])], requirement, read)
        after = api.get(f"/leads/{existing['id']}")
        if after.status != 200 or body_of(after) != existing:
            raise violation(requirement, f"the existing lead unchanged by dry runs: {existing}", after.describe(), after)
        for params in ({"tag": tag}, {"q": fresh_email}):
            items, pages = walk(api, "/leads", params, limit=50, max_pages=5)
            if items:
                raise violation(requirement, f"no lead created by a dry run ({params})", repr([item.get("id") for item in items]), pages[-1])
    finally:
        _delete_tagged(api, tag)


@pytest.mark.requirement("/req/leads/import-duplicate-policy")
def test_import_applies_its_duplicate_policy(kit: KitSession, api: KitClient, run_pipeline: RunPipeline) -> None:
    """Requirement: /req/leads/import-duplicate-policy (skip, update or create for rows matching an existing lead by email or phone).
    Test purpose: each policy does what it says to a duplicate, matching email case-insensitively and phone exactly.
    Test method: 1. create two leads with email and phone 2. import with skip: a row with the first lead's email in
    upper case (skipped, lead unchanged), a new row (created) and a row repeating it (skipped, matched to the lead the
    import just created) 3. import with update: a row matching the first lead by phone only: updated, its fields
    overwritten, pipeline and stage kept 4. import with create: a row with the second lead's email: a new lead,
    both exist. The imported leads are deleted at the end.
    """
    requirement = "/req/leads/import-duplicate-policy"
    tag = _subtag(kit, "dup")
    home = first_pipeline_id(api)
    target = run_pipeline.id or home
    first = create_lead(kit, api, home, email=_email(kit, "dup-first"), phone=_phone(kit))
    second = create_lead(kit, api, home, email=_email(kit, "dup-second"), phone=_phone(kit))
    newcomer = _email(kit, "dup-newcomer")
    try:
        job, read = _run_import(api, {"pipeline_id": target, "duplicate_policy": "skip", "rows": [
            {"contact_name": "Skip Me", "email": first["email"].upper(), "tags": [kit.tag, tag]},
            {"contact_name": "Dup Newcomer", "email": newcomer, "tags": [kit.tag, tag]},
            {"contact_name": "Dup Newcomer Again", "email": newcomer, "tags": [kit.tag, tag]},
        ]}, requirement)
        _check_outcomes(job, [("skipped", first["id"]), ("created", "*"), ("skipped", job["results"][1].get("lead_id") if len(job.get("results") or []) > 1 else "*")], requirement, read)
        unchanged = api.get(f"/leads/{first['id']}")
        if body_of(unchanged) != first:
            raise violation(requirement, "the existing lead unchanged by policy skip", unchanged.describe(), unchanged)

        job, read = _run_import(api, {"pipeline_id": target, "duplicate_policy": "update", "rows": [
            {"contact_name": "Updated By Import", "phone": first["phone"], "company_name": "Porto Verde Alimentos", "city": "Campinas", "tags": [kit.tag, tag]},
        ]}, requirement)
        _check_outcomes(job, [("updated", first["id"])], requirement, read)
        updated = api.get(f"/leads/{first['id']}")
        lead = body_of(updated)
        wanted = {"contact_name": "Updated By Import", "company_name": "Porto Verde Alimentos", "city": "Campinas",
                  "email": first["email"], "pipeline_id": first["pipeline_id"], "stage_id": first["stage_id"]}
        for name, value in wanted.items():
            if lead.get(name) != value:
                raise violation(requirement, f"policy update: {name} = {value!r} (row fields overwrite, pipeline and stage kept)", f"{name} = {lead.get(name)!r}", updated)

        job, read = _run_import(api, {"pipeline_id": target, "duplicate_policy": "create", "rows": [
            {"contact_name": "Create Anyway", "email": second["email"], "tags": [kit.tag, tag]},
        ]}, requirement)
        _check_outcomes(job, [("created", "*")], requirement, read)
        made = job["results"][0]["lead_id"]
        if made == second["id"]:
            raise violation(requirement, f"policy create: a new lead, not {second['id']}", repr(job["results"][0]), read)
        for lead_id in (made, second["id"]):
            exists = api.get(f"/leads/{lead_id}")
            if exists.status != 200 or body_of(exists).get("email") != second["email"]:
                raise violation(requirement, f"lead {lead_id} with email {second['email']} (both the old and the new)", exists.describe(), exists)
    finally:
        _delete_tagged(api, tag)


# --- activities -------------------------------------------------------------------------------------


@pytest.mark.requirement("/req/leads/activities-timeline")
def test_note_appears_on_timeline_newest_first(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/leads/activities-timeline (a note added to a lead appears on its timeline, newest first).
    Test purpose: createLeadActivity records a note by the caller, and listLeadActivities shows it, newest first.
    Test method: 1. create a lead 2. add a note; a second later add another 3. expect 201 with type note, the body,
    a user actor, is_reply false 4. walk the timeline: both notes as created, the second one first, occurred_at never
    increasing down the list.
    """
    requirement = "/req/leads/activities-timeline"
    lead = create_lead(kit, api)
    notes = []
    for number, text in enumerate((f"Called the fleet manager ({kit.tag}).", f"Sent the proposal draft ({kit.tag}).")):
        if number:
            time.sleep(CLOCK_STEP_SECONDS)
        added = api.post(f"/leads/{lead['id']}/activities", {"body": text})
        note = body_of(added)
        if added.status != 201:
            raise violation(requirement, "201 adding a note", added.describe(), added)
        shape = {"type": "note", "body": text, "lead_id": lead["id"], "is_reply": False}
        if any(note.get(name) != value for name, value in shape.items()) or (note.get("actor") or {}).get("type") != "user":
            raise violation(requirement, f"the note as recorded: {shape} with a user actor", added.describe(), added)
        notes.append(note)
    items, pages = walk(api, f"/leads/{lead['id']}/activities", limit=50, max_pages=20)
    listed = {item.get("id"): (position, item) for position, item in enumerate(items)}
    for note in notes:
        if note["id"] not in listed:
            raise violation(requirement, f"note {note['id']} on the lead's timeline", repr([item.get("id") for item in items]), pages[-1])
        if listed[note["id"]][1] != note:
            raise violation(requirement, f"the note listed as it was created: {note}", repr(listed[note["id"]][1]), pages[-1])
    if items[0].get("id") != notes[1]["id"] or listed[notes[1]["id"]][0] > listed[notes[0]["id"]][0]:
        raise violation(requirement, f"the newest note {notes[1]['id']} first", repr([item.get("id") for item in items]), pages[-1])
    stamps = [_instant(item["occurred_at"]) for item in items]
    if stamps != sorted(stamps, reverse=True):
        raise violation(requirement, "occurred_at never increasing down the timeline (newest first)", repr([item["occurred_at"] for item in items]), pages[-1])
