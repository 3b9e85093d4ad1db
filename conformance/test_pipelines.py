"""Pipelines and their stages: default stages, reordering, add / rename / archive.

v1 has no DELETE for pipelines, so a run creates exactly one (the
`run_pipeline` fixture, named with the run's tag) and every test here works on it.
"""

from __future__ import annotations

from typing import Any

import pytest

from apollospace_conformance.checks import violation
from apollospace_conformance.http import Exchange, KitClient
from apollospace_conformance.resources import create_lead, first_pipeline_id, lead_body
from apollospace_conformance.session import KitSession

from ._requests import error_code
from .conftest import RunPipeline, body_of

# The seven default stages, in order, as /req/pipelines/default-stages states them.
DEFAULT_STAGES = ("New lead", "Qualified", "In conversation", "Proposal sent", "Negotiation", "Closed-Won", "Closed-Lost")




def read_pipeline(api: KitClient, pipeline_id: str, requirement: str) -> tuple[dict[str, Any], Exchange]:
    read = api.get(f"/pipelines/{pipeline_id}")
    body = body_of(read)
    if read.status != 200 or not isinstance(body.get("stages"), list):
        raise violation(requirement, f"200 with pipeline {pipeline_id} and its stages", read.describe(), read)
    return body, read


def first_active(pipeline: dict[str, Any]) -> dict[str, Any] | None:
    active = [stage for stage in pipeline["stages"] if not stage.get("archived")]
    return min(active, key=lambda stage: stage["position"]) if active else None


def check_positions(pipeline: dict[str, Any], requirement: str, exchange: Exchange) -> None:
    """Stages listed in order, each `position` its index."""
    positions = [stage.get("position") for stage in pipeline["stages"]]
    if positions != list(range(len(positions))):
        raise violation(requirement, "stages in order with position 0..n-1", f"positions {positions}", exchange)


@pytest.mark.requirement("/req/pipelines/default-stages")
def test_new_pipeline_gets_the_default_stages(kit: KitSession, api: KitClient, run_pipeline: RunPipeline) -> None:
    """Requirement: /req/pipelines/default-stages (a pipeline created without stages gets the seven defaults in order).
    Test purpose: createPipeline without `stages` gives New lead, Qualified, In conversation, Proposal sent,
    Negotiation, Closed-Won, Closed-Lost, all active, in that order.
    Test method: 1. create the run's one pipeline with only a name (the run's tag) 2. expect 201, is_default false and
    the seven default stages by name, active, with positions 0..6 3. read it back and expect the same stages.
    """
    requirement = "/req/pipelines/default-stages"
    created = run_pipeline.creation
    if created.status != 201:
        raise violation(requirement, "201 creating a pipeline with only a name", created.describe(), created)
    pipeline = body_of(created)
    for source, exchange in ((pipeline, created), read_pipeline(api, pipeline["id"], requirement)):
        names = [stage.get("name") for stage in source.get("stages") or []]
        if names != list(DEFAULT_STAGES):
            raise violation(requirement, f"the default stages {list(DEFAULT_STAGES)}", f"{names}", exchange)
        if any(stage.get("archived") or stage.get("archived_at") for stage in source["stages"]):
            raise violation(requirement, "every default stage active", repr(source["stages"])[:400], exchange)
        check_positions(source, requirement, exchange)
        if source.get("is_default") is not False or source.get("name") != kit.tag:
            raise violation(requirement, f"a pipeline named {kit.tag!r} that is not the default", f"name {source.get('name')!r}, is_default {source.get('is_default')!r}", exchange)


@pytest.mark.requirement("/req/pipelines/reorder-permutation")
def test_reorder_takes_only_a_permutation(kit: KitSession, api: KitClient, run_pipeline: RunPipeline) -> None:
    """Requirement: /req/pipelines/reorder-permutation (the whole new order in one call; anything else is 400 and changes nothing).
    Test purpose: reorderPipelineStages refuses a list that is not a permutation of the pipeline's stages and applies one that is.
    Test method: 1. read the run's pipeline 2. send the order with one id missing, with one id twice, and with a stage
    of another pipeline in place of one of its own: expect 400 stage_order_not_permutation each time, and the order
    unchanged when read back 3. send a seeded shuffle of the stages: expect 200 with the stages in that order,
    positions 0..n-1, also when read back 4. create a lead without stage_id: it enters the first active stage of the new order.
    """
    requirement = "/req/pipelines/reorder-permutation"
    pipeline_id = run_pipeline.require()
    pipeline, _ = read_pipeline(api, pipeline_id, requirement)
    order = [stage["id"] for stage in pipeline["stages"]]
    if len(order) < 2:
        pytest.skip("the run's pipeline has fewer than two stages to reorder")
    other, _ = read_pipeline(api, first_pipeline_id(api), requirement)
    foreign = next((stage["id"] for stage in other["stages"] if stage["id"] not in order), None)
    wrong = {"one id missing": order[:-1], "one id twice": [*order[:-1], order[0]]}
    if foreign is not None:
        wrong["a stage of another pipeline"] = [*order[:-1], foreign]
    for what, stage_ids in wrong.items():
        refused = api.put(f"/pipelines/{pipeline_id}/stage-order", {"stage_ids": stage_ids})
        if refused.status != 400 or error_code(refused) != "stage_order_not_permutation":
            raise violation(requirement, f"400 stage_order_not_permutation for an order with {what}", refused.describe(), refused)
        now, read = read_pipeline(api, pipeline_id, requirement)
        if [stage["id"] for stage in now["stages"]] != order:
            raise violation(requirement, f"the order unchanged after a refused reorder ({what})", f"{[s['id'] for s in now['stages']]} instead of {order}", read)
    new_order = list(order)
    while new_order == order:
        kit.random.shuffle(new_order)
    applied = api.put(f"/pipelines/{pipeline_id}/stage-order", {"stage_ids": new_order})
    if applied.status != 200 or [stage.get("id") for stage in body_of(applied).get("stages") or []] != new_order:
        raise violation(requirement, f"200 with the stages in the order sent {new_order}", applied.describe(), applied)
    check_positions(body_of(applied), requirement, applied)
    now, read = read_pipeline(api, pipeline_id, requirement)
    if [stage["id"] for stage in now["stages"]] != new_order:
        raise violation(requirement, f"the new order {new_order} when read back", repr([s["id"] for s in now["stages"]]), read)
    check_positions(now, requirement, read)
    entry = first_active(now)
    if entry is not None:
        lead = create_lead(kit, api, pipeline_id)
        if lead.get("stage_id") != entry["id"]:
            raise violation(requirement, f"a new lead in the first active stage of the new order ({entry['id']}, {entry['name']!r})",
                            f"stage_id {lead.get('stage_id')!r} ({lead.get('stage')!r})", read)


@pytest.mark.requirement("/req/pipelines/stage-lifecycle")
def test_stage_add_rename_archive(kit: KitSession, api: KitClient, run_pipeline: RunPipeline) -> None:
    """Requirement: /req/pipelines/stage-lifecycle (stages can be added, renamed and archived; an archived stage accepts no new leads).
    Test purpose: a stage goes through its whole life, and archiving closes it to new leads while keeping the ones it has.
    Test method: 1. add a stage at the end and one at position 0: expect 201, active, at the asked position, the others
    shifted 2. create a lead without stage_id: it enters the new first stage 3. rename that stage: expect 200, same id and
    position, and the lead shows the new name 4. archive it: expect 200, archived, archived_at set, position kept
    5. create a lead in it, and move another lead into it: expect 409 stage_archived for both 6. create a lead without
    stage_id: it enters the next active stage 7. the lead already in the archived stage is still readable there
    8. archive it again: 200 with archived_at unchanged.
    """
    requirement = "/req/pipelines/stage-lifecycle"
    pipeline_id = run_pipeline.require()
    pipeline, _ = read_pipeline(api, pipeline_id, requirement)
    count = len(pipeline["stages"])
    if count + 2 > 30:
        pytest.skip("the run's pipeline is too close to the 30-stage limit to add two stages")
    suffix = kit.run_id[:6]

    appended = api.post(f"/pipelines/{pipeline_id}/stages", {"name": f"Conformance wrap-up {suffix}"})
    stage = body_of(appended)
    if appended.status != 201 or stage.get("position") != count or stage.get("archived") is not False:
        raise violation(requirement, f"201 with an active stage at position {count} (the end)", appended.describe(), appended)
    inserted = api.post(f"/pipelines/{pipeline_id}/stages", {"name": f"Conformance intake {suffix}", "position": 0})
    intake = body_of(inserted)
    if inserted.status != 201 or intake.get("position") != 0 or intake.get("archived") is not False:
        raise violation(requirement, "201 with an active stage at position 0", inserted.describe(), inserted)
    now, read = read_pipeline(api, pipeline_id, requirement)
    expected_ids = [intake["id"], *[s["id"] for s in pipeline["stages"]], stage["id"]]
    if [s["id"] for s in now["stages"]] != expected_ids:
        raise violation(requirement, f"the inserted stage first, the others shifted, the appended one last: {expected_ids}", repr([s["id"] for s in now["stages"]]), read)
    check_positions(now, requirement, read)

    resident = create_lead(kit, api, pipeline_id)
    if resident.get("stage_id") != intake["id"]:
        raise violation(requirement, f"a new lead in the new first stage {intake['id']}", f"stage_id {resident.get('stage_id')!r}", read)
    new_name = f"Conformance triage {suffix}"
    renamed = api.patch(f"/pipelines/{pipeline_id}/stages/{intake['id']}", {"name": new_name})
    shown = body_of(renamed)
    if renamed.status != 200 or shown.get("name") != new_name or shown.get("id") != intake["id"] or shown.get("position") != 0:
        raise violation(requirement, f"200 with the stage renamed {new_name!r}, same id and position", renamed.describe(), renamed)
    lead_read = api.get(f"/leads/{resident['id']}")
    if body_of(lead_read).get("stage") != new_name or body_of(lead_read).get("stage_id") != intake["id"]:
        raise violation(requirement, f"the lead in the renamed stage showing stage {new_name!r}", lead_read.describe(), lead_read)

    archived = api.post(f"/pipelines/{pipeline_id}/stages/{intake['id']}/archive")
    closed = body_of(archived)
    if archived.status != 200 or closed.get("archived") is not True or not closed.get("archived_at") or closed.get("position") != 0:
        raise violation(requirement, "200 with the stage archived, archived_at set, position kept", archived.describe(), archived)
    into = api.post("/leads", lead_body(kit, pipeline_id, stage_id=intake["id"]))
    kit.remember_created(api, into)
    if into.status != 409 or error_code(into) != "stage_archived":
        raise violation(requirement, "409 stage_archived creating a lead in an archived stage", into.describe(), into)
    newcomer = create_lead(kit, api, pipeline_id)
    now, read = read_pipeline(api, pipeline_id, requirement)
    entry = first_active(now)
    if entry is None or newcomer.get("stage_id") != entry["id"] or entry["id"] == intake["id"]:
        raise violation(requirement, f"a new lead in the next active stage ({entry and entry['id']})", f"stage_id {newcomer.get('stage_id')!r}", read)
    moved = api.patch(f"/leads/{newcomer['id']}", {"stage_id": intake["id"]})
    if moved.status != 409 or error_code(moved) != "stage_archived":
        raise violation(requirement, "409 stage_archived moving a lead into an archived stage", moved.describe(), moved)
    kept = api.get(f"/leads/{resident['id']}")
    if kept.status != 200 or body_of(kept).get("stage_id") != intake["id"]:
        raise violation(requirement, "the lead already in the archived stage still there and readable", kept.describe(), kept)
    again = api.post(f"/pipelines/{pipeline_id}/stages/{intake['id']}/archive")
    if again.status != 200 or body_of(again).get("archived_at") != closed["archived_at"]:
        raise violation(requirement, f"200 with archived_at unchanged ({closed['archived_at']}) archiving it again", again.describe(), again)
