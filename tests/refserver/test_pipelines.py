"""Pipelines and stages over real HTTP: list, get, create, add, rename, archive, reorder."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from apollospace_refserver.seed import DEFAULT_STAGES

from .conftest import LiveServer
from .helpers import conforms, error_code


def new_pipeline(live: LiveServer, name: str = "Partner channel", stages: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name}
    if stages is not None:
        body["stages"] = [{"name": stage} for stage in stages]
    with live.client() as client:
        return conforms(client.post("/pipelines", json=body), "Pipeline", 201)  # type: ignore[no-any-return]


def stage_names(pipeline: dict[str, Any]) -> list[str]:
    return [stage["name"] for stage in pipeline["stages"]]


# --- list and get -----------------------------------------------------------------


def test_list_pipelines_shows_the_seeded_default_pipeline_with_its_seven_stages(live: LiveServer) -> None:
    """Every role reads the pipeline list, whose first item is the default pipeline and its stages in order."""
    for user in ("olivia", "arthur", "mia", "victor"):
        with live.client(user) as client:
            page = conforms(client.get("/pipelines"), "PipelinePage", 200)
        default = page["items"][0]
        assert default["is_default"] is True
        assert stage_names(default) == list(DEFAULT_STAGES)
        assert [stage["position"] for stage in default["stages"]] == list(range(7))


def test_list_pipelines_pages_oldest_first_without_gaps_or_repeats(live: LiveServer) -> None:
    """Walking listPipelines with a small limit visits every pipeline once, oldest first, and ends on a null cursor."""
    created = [new_pipeline(live, f"Paged {i}")["id"] for i in range(5)]
    seen: list[dict[str, Any]] = []
    cursor = None
    with live.client("victor") as client:
        while True:
            params: dict[str, Any] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = conforms(client.get("/pipelines", params=params), "PipelinePage", 200)
            assert len(page["items"]) <= 2
            seen += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    ids = [pipeline["id"] for pipeline in seen]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if i in created] == created
    keys = [(pipeline["created_at"], pipeline["id"]) for pipeline in seen]
    assert keys == sorted(keys)


def test_list_pipelines_refuses_a_forged_or_foreign_cursor(live: LiveServer, pipeline_id: str) -> None:
    """A cursor the list did not issue, or one issued by another list, is a 400 invalid_cursor."""
    with live.client() as client:
        assert error_code(client.get("/pipelines", params={"cursor": "forged.cursor"}), 400) == "invalid_cursor"
        client.post("/leads", json={"contact_name": "Cursor One", "pipeline_id": pipeline_id})
        client.post("/leads", json={"contact_name": "Cursor Two", "pipeline_id": pipeline_id})
        leads_cursor = client.get("/leads", params={"limit": 1}).json()["next_cursor"]
        assert leads_cursor
        assert error_code(client.get("/pipelines", params={"cursor": leads_cursor}), 400) == "invalid_cursor"


def test_get_pipeline_returns_it_with_archived_stages_included(live: LiveServer) -> None:
    """getPipeline returns the pipeline with every stage, archived ones included, in position order."""
    pipeline = new_pipeline(live, "Get me", ["One", "Two", "Three"])
    with live.client() as client:
        conforms(client.post(f"/pipelines/{pipeline['id']}/stages/{pipeline['stages'][1]['id']}/archive"), "Stage", 200)
    with live.client("victor") as client:
        got = conforms(client.get(f"/pipelines/{pipeline['id']}"), "Pipeline", 200)
    assert stage_names(got) == ["One", "Two", "Three"]
    assert [stage["archived"] for stage in got["stages"]] == [False, True, False]


def test_get_pipeline_of_another_organization_or_unknown_is_404(live: LiveServer, pipeline_id: str) -> None:
    """A pipeline of another organization is a 404 pipeline_not_found, exactly like an unknown id."""
    with live.client("bruno", "globex") as client:
        assert error_code(client.get(f"/pipelines/{pipeline_id}"), 404) == "pipeline_not_found"
        assert error_code(client.get(f"/pipelines/{uuid.uuid4()}"), 404) == "pipeline_not_found"
        items = conforms(client.get("/pipelines"), "PipelinePage", 200)["items"]
        assert pipeline_id not in {pipeline["id"] for pipeline in items}


# --- create -------------------------------------------------------------------------


def test_create_pipeline_without_stages_gets_the_seven_default_stages(live: LiveServer) -> None:
    """A pipeline created without stages has the seven default stages in order, is not the default, and has a Location."""
    with live.client("arthur") as client:
        response = client.post("/pipelines", json={"name": "Inbound"})
        pipeline = conforms(response, "Pipeline", 201)
        assert response.headers["Location"] == f"/v1/pipelines/{pipeline['id']}"
        assert conforms(client.get(f"/pipelines/{pipeline['id']}"), "Pipeline", 200) == pipeline
    assert stage_names(pipeline) == ["New lead", "Qualified", "In conversation", "Proposal sent", "Negotiation", "Closed-Won", "Closed-Lost"]
    assert pipeline["is_default"] is False
    assert all(stage["archived"] is False and stage["archived_at"] is None for stage in pipeline["stages"])
    assert pipeline["created_at"].endswith("Z")


def test_create_pipeline_with_stages_keeps_their_order(live: LiveServer) -> None:
    """A pipeline created with stages has exactly those stages, positions 0..n-1 in the given order."""
    pipeline = new_pipeline(live, "Partners", ["Sourced", "Intro call", "Signed"])
    assert stage_names(pipeline) == ["Sourced", "Intro call", "Signed"]
    assert [stage["position"] for stage in pipeline["stages"]] == [0, 1, 2]


def test_create_pipeline_validates_its_body(live: LiveServer) -> None:
    """An empty name, an empty stage list or 31 stages is a 400 validation_failed."""
    with live.client() as client:
        for body in ({"name": ""}, {"name": "X", "stages": []}, {"name": "X", "stages": [{"name": f"S{i}"} for i in range(31)]}, {}):
            assert error_code(client.post("/pipelines", json=body), 400) == "validation_failed"


def test_create_pipeline_is_replayed_for_the_same_idempotency_key(live: LiveServer) -> None:
    """Retrying createPipeline with the same Idempotency-Key returns the same pipeline and creates no second one."""
    key = str(uuid.uuid4())
    with live.client() as client:
        first = client.post("/pipelines", json={"name": "Once"}, headers={"Idempotency-Key": key})
        second = client.post("/pipelines", json={"name": "Once"}, headers={"Idempotency-Key": key})
        assert conforms(second, "Pipeline", 201)["id"] == conforms(first, "Pipeline", 201)["id"]
        assert second.headers.get("Idempotent-Replayed") == "true"


# --- roles ----------------------------------------------------------------------------


def test_pipeline_configuration_is_for_owners_and_admins_only(live: LiveServer) -> None:
    """A member or a viewer gets 403 insufficient_role on every pipeline configuration operation."""
    pipeline = new_pipeline(live, "Guarded", ["A", "B"])
    first, second = (stage["id"] for stage in pipeline["stages"])
    base = f"/pipelines/{pipeline['id']}"
    for user in ("mia", "victor"):
        with live.client(user) as client:
            calls = [
                client.post("/pipelines", json={"name": "Nope"}),
                client.post(f"{base}/stages", json={"name": "Nope"}),
                client.patch(f"{base}/stages/{first}", json={"name": "Nope"}),
                client.post(f"{base}/stages/{first}/archive"),
                client.put(f"{base}/stage-order", json={"stage_ids": [second, first]}),
            ]
            assert [error_code(response, 403) for response in calls] == ["insufficient_role"] * 5
    with live.client() as client:
        unchanged = conforms(client.get(base), "Pipeline", 200)
    assert unchanged["stages"] == pipeline["stages"]


def test_admins_can_configure_pipelines(live: LiveServer) -> None:
    """An admin may create pipelines and add, rename, archive and reorder stages."""
    with live.client("arthur") as client:
        pipeline = conforms(client.post("/pipelines", json={"name": "Admin's", "stages": [{"name": "A"}, {"name": "B"}]}), "Pipeline", 201)
        base = f"/pipelines/{pipeline['id']}"
        added = conforms(client.post(f"{base}/stages", json={"name": "C"}), "Stage", 201)
        conforms(client.patch(f"{base}/stages/{added['id']}", json={"name": "C2"}), "Stage", 200)
        conforms(client.post(f"{base}/stages/{added['id']}/archive"), "Stage", 200)
        ids = [stage["id"] for stage in pipeline["stages"]] + [added["id"]]
        conforms(client.put(f"{base}/stage-order", json={"stage_ids": ids[::-1]}), "Pipeline", 200)


# --- add a stage ---------------------------------------------------------------------------


def test_create_stage_appends_by_default_and_inserts_at_a_position(live: LiveServer) -> None:
    """A new stage goes to the end, or at `position` with the later stages moving one place down."""
    pipeline = new_pipeline(live, "Grow", ["A", "B", "C"])
    base = f"/pipelines/{pipeline['id']}"
    with live.client() as client:
        response = client.post(f"{base}/stages", json={"name": "D"})
        appended = conforms(response, "Stage", 201)
        assert response.headers["Location"] == f"/v1{base}/stages/{appended['id']}"
        assert appended == {"id": appended["id"], "name": "D", "position": 3, "archived": False, "archived_at": None}
        inserted = conforms(client.post(f"{base}/stages", json={"name": "Between", "position": 1}), "Stage", 201)
        assert inserted["position"] == 1
        at_end = conforms(client.post(f"{base}/stages", json={"name": "Last", "position": 5}), "Stage", 201)
        assert at_end["position"] == 5
        got = conforms(client.get(base), "Pipeline", 200)
    assert stage_names(got) == ["A", "Between", "B", "C", "D", "Last"]
    assert [stage["position"] for stage in got["stages"]] == list(range(6))
    assert got["updated_at"] > pipeline["updated_at"]


def test_create_stage_beyond_the_end_is_out_of_range(live: LiveServer) -> None:
    """A position greater than the number of stages is a 400 stage_position_out_of_range and adds nothing."""
    pipeline = new_pipeline(live, "Short", ["A", "B"])
    with live.client() as client:
        response = client.post(f"/pipelines/{pipeline['id']}/stages", json={"name": "Far", "position": 3})
        assert error_code(response, 400) == "stage_position_out_of_range"
        assert stage_names(client.get(f"/pipelines/{pipeline['id']}").json()) == ["A", "B"]


def test_a_pipeline_holds_at_most_thirty_stages_archived_included(live: LiveServer) -> None:
    """Adding a 31st stage, even when some are archived, is a 409 stage_limit_reached."""
    pipeline = new_pipeline(live, "Full", [f"S{i}" for i in range(30)])
    base = f"/pipelines/{pipeline['id']}"
    with live.client() as client:
        conforms(client.post(f"{base}/stages/{pipeline['stages'][0]['id']}/archive"), "Stage", 200)
        assert error_code(client.post(f"{base}/stages", json={"name": "One more"}), 409) == "stage_limit_reached"
        assert error_code(client.post(f"{base}/stages", json={"name": "One more", "position": 0}), 409) == "stage_limit_reached"
        assert len(client.get(base).json()["stages"]) == 30


def test_create_stage_in_a_pipeline_of_another_organization_is_404(live: LiveServer, pipeline_id: str) -> None:
    """Adding a stage to another organization's pipeline is a 404 pipeline_not_found."""
    with live.client("bruno", "globex") as client:
        assert error_code(client.post(f"/pipelines/{pipeline_id}/stages", json={"name": "Intruder"}), 404) == "pipeline_not_found"


# --- rename -----------------------------------------------------------------------------------


def test_rename_stage_shows_the_new_name_on_its_leads(live: LiveServer) -> None:
    """Renaming a stage keeps its id and position, and its leads show the new name as `stage`."""
    pipeline = new_pipeline(live, "Rename", ["Old name", "Other"])
    stage = pipeline["stages"][0]
    with live.client() as client:
        lead = client.post("/leads", json={"contact_name": "Renata", "pipeline_id": pipeline["id"]}).json()
        assert lead["stage"] == "Old name"
        renamed = conforms(client.patch(f"/pipelines/{pipeline['id']}/stages/{stage['id']}", json={"name": "Discovery call"}), "Stage", 200)
        assert renamed == {**stage, "name": "Discovery call"}
        again = conforms(client.get(f"/leads/{lead['id']}"), "Lead", 200)
    assert again["stage"] == "Discovery call"
    assert again["stage_id"] == stage["id"]


def test_rename_archived_stage_is_allowed(live: LiveServer) -> None:
    """An archived stage can be renamed and stays archived."""
    pipeline = new_pipeline(live, "Rename archived", ["A", "B"])
    base = f"/pipelines/{pipeline['id']}/stages/{pipeline['stages'][0]['id']}"
    with live.client() as client:
        archived = conforms(client.post(f"{base}/archive"), "Stage", 200)
        renamed = conforms(client.patch(base, json={"name": "A (old)"}), "Stage", 200)
    assert renamed == {**archived, "name": "A (old)"}


def test_rename_stage_of_another_pipeline_or_organization_is_404(live: LiveServer, pipeline_id: str) -> None:
    """A stage of another pipeline is a 404 stage_not_found; another organization's pipeline is a 404 pipeline_not_found."""
    mine = new_pipeline(live, "Mine", ["A"])
    other = new_pipeline(live, "Other", ["B"])
    with live.client() as client:
        response = client.patch(f"/pipelines/{mine['id']}/stages/{other['stages'][0]['id']}", json={"name": "X"})
        assert error_code(response, 404) == "stage_not_found"
        response = client.patch(f"/pipelines/{mine['id']}/stages/{uuid.uuid4()}", json={"name": "X"})
        assert error_code(response, 404) == "stage_not_found"
        assert error_code(client.patch(f"/pipelines/{uuid.uuid4()}/stages/{mine['stages'][0]['id']}", json={"name": "X"}), 404) == "pipeline_not_found"
    with live.client("bruno", "globex") as client:
        globex = conforms(client.get("/pipelines"), "PipelinePage", 200)["items"][0]
        response = client.patch(f"/pipelines/{mine['id']}/stages/{mine['stages'][0]['id']}", json={"name": "X"})
        assert error_code(response, 404) == "pipeline_not_found"
        response = client.patch(f"/pipelines/{globex['id']}/stages/{mine['stages'][0]['id']}", json={"name": "X"})
        assert error_code(response, 404) == "stage_not_found"
    with live.client() as client:
        assert stage_names(client.get(f"/pipelines/{mine['id']}").json()) == ["A"]


def test_rename_stage_validates_the_name(live: LiveServer) -> None:
    """An empty or missing name is a 400 validation_failed."""
    pipeline = new_pipeline(live, "Names", ["A"])
    with live.client() as client:
        for body in ({"name": ""}, {}, {"name": "x" * 101}):
            assert error_code(client.patch(f"/pipelines/{pipeline['id']}/stages/{pipeline['stages'][0]['id']}", json=body), 400) == "validation_failed"


# --- archive ----------------------------------------------------------------------------------


def test_archived_stage_accepts_no_new_leads(live: LiveServer) -> None:
    """Creating or moving a lead into an archived stage is a 409 stage_archived; leads already there stay readable and movable."""
    pipeline = new_pipeline(live, "Archive", ["Open", "Closing", "Done"])
    open_, closing, done = (stage["id"] for stage in pipeline["stages"])
    with live.client() as client:
        resident = client.post("/leads", json={"contact_name": "Resident", "pipeline_id": pipeline["id"], "stage_id": closing}).json()
        archived = conforms(client.post(f"/pipelines/{pipeline['id']}/stages/{closing}/archive"), "Stage", 200)
        assert archived["archived"] is True and archived["archived_at"].endswith("Z")
        assert archived["position"] == 1
        response = client.post("/leads", json={"contact_name": "Newcomer", "pipeline_id": pipeline["id"], "stage_id": closing})
        assert error_code(response, 409) == "stage_archived"
        mover = client.post("/leads", json={"contact_name": "Mover", "pipeline_id": pipeline["id"]}).json()
        assert error_code(client.patch(f"/leads/{mover['id']}", json={"stage_id": closing}), 409) == "stage_archived"
        assert conforms(client.get(f"/leads/{resident['id']}"), "Lead", 200)["stage_id"] == closing
        moved = conforms(client.patch(f"/leads/{resident['id']}", json={"stage_id": done}), "Lead", 200)
        assert moved["stage_id"] == done
    assert mover["stage_id"] == open_


def test_archiving_the_first_active_stage_moves_the_entry_point(live: LiveServer) -> None:
    """After archiving the first active stage, new leads enter the next active stage."""
    pipeline = new_pipeline(live, "Entry", ["First", "Second", "Third"])
    with live.client() as client:
        conforms(client.post(f"/pipelines/{pipeline['id']}/stages/{pipeline['stages'][0]['id']}/archive"), "Stage", 200)
        lead = conforms(client.post("/leads", json={"contact_name": "Entrant", "pipeline_id": pipeline["id"]}), "Lead", 201)
    assert (lead["stage_id"], lead["stage"]) == (pipeline["stages"][1]["id"], "Second")


def test_archiving_twice_changes_nothing(live: LiveServer) -> None:
    """Archiving an archived stage answers 200 with the stage as it is, archived_at unchanged."""
    pipeline = new_pipeline(live, "Twice", ["A", "B"])
    url = f"/pipelines/{pipeline['id']}/stages/{pipeline['stages'][0]['id']}/archive"
    with live.client() as client:
        first = conforms(client.post(url), "Stage", 200)
        second = conforms(client.post(url), "Stage", 200)
    assert second == first


def test_archiving_the_last_active_stage_is_refused(live: LiveServer) -> None:
    """Archiving the pipeline's last active stage is a 409 last_active_stage and leaves it active."""
    pipeline = new_pipeline(live, "Last", ["A", "B"])
    a, b = (stage["id"] for stage in pipeline["stages"])
    with live.client() as client:
        conforms(client.post(f"/pipelines/{pipeline['id']}/stages/{a}/archive"), "Stage", 200)
        assert error_code(client.post(f"/pipelines/{pipeline['id']}/stages/{b}/archive"), 409) == "last_active_stage"
        stages = client.get(f"/pipelines/{pipeline['id']}").json()["stages"]
    assert [stage["archived"] for stage in stages] == [True, False]


def test_archive_stage_of_another_pipeline_or_organization_is_404(live: LiveServer, pipeline_id: str) -> None:
    """Archiving a stage through a pipeline it does not belong to, or another organization's, is a 404."""
    mine = new_pipeline(live, "Mine too", ["A", "B"])
    other = new_pipeline(live, "Theirs", ["C", "D"])
    with live.client() as client:
        assert error_code(client.post(f"/pipelines/{mine['id']}/stages/{other['stages'][0]['id']}/archive"), 404) == "stage_not_found"
    with live.client("bruno", "globex") as client:
        assert error_code(client.post(f"/pipelines/{mine['id']}/stages/{mine['stages'][0]['id']}/archive"), 404) == "pipeline_not_found"
    with live.client() as client:
        assert not any(stage["archived"] for stage in client.get(f"/pipelines/{other['id']}").json()["stages"])


# --- reorder ------------------------------------------------------------------------------------


def test_reorder_stages_sets_each_position_to_its_index(live: LiveServer) -> None:
    """A permutation of every stage, archived ones included, becomes the new order; leads stay in their stages."""
    pipeline = new_pipeline(live, "Reorder", ["A", "B", "C", "D"])
    a, b, c, d = (stage["id"] for stage in pipeline["stages"])
    base = f"/pipelines/{pipeline['id']}"
    with live.client() as client:
        lead = client.post("/leads", json={"contact_name": "Stayer", "pipeline_id": pipeline["id"], "stage_id": b}).json()
        conforms(client.post(f"{base}/stages/{c}/archive"), "Stage", 200)
        reordered = conforms(client.put(f"{base}/stage-order", json={"stage_ids": [c, d, b, a]}), "Pipeline", 200)
        assert [stage["id"] for stage in reordered["stages"]] == [c, d, b, a]
        assert [stage["position"] for stage in reordered["stages"]] == [0, 1, 2, 3]
        assert conforms(client.get(base), "Pipeline", 200)["stages"] == reordered["stages"]
        assert client.get(f"/leads/{lead['id']}").json()["stage_id"] == b
        entrant = client.post("/leads", json={"contact_name": "Entrant", "pipeline_id": pipeline["id"]}).json()
    assert entrant["stage_id"] == d  # c is first but archived


def test_reorder_with_the_current_order_changes_nothing(live: LiveServer) -> None:
    """Sending the current order again answers the pipeline unchanged, updated_at included."""
    pipeline = new_pipeline(live, "Same", ["A", "B", "C"])
    with live.client() as client:
        response = client.put(f"/pipelines/{pipeline['id']}/stage-order", json={"stage_ids": [s["id"] for s in pipeline["stages"]]})
        assert conforms(response, "Pipeline", 200) == pipeline


@pytest.mark.parametrize("case", ["missing", "repeated", "unknown", "other_pipeline", "extra", "other_organization"])
def test_reorder_rejects_anything_but_a_permutation(live: LiveServer, case: str) -> None:
    """A missing, repeated, unknown, extra or foreign stage id is a 400 stage_order_not_permutation and changes nothing."""
    pipeline = new_pipeline(live, f"Strict {case}", ["A", "B", "C"])
    other = new_pipeline(live, f"Elsewhere {case}", ["X"])
    a, b, c = (stage["id"] for stage in pipeline["stages"])
    with live.client("bruno", "globex") as client:
        foreign = client.get("/pipelines").json()["items"][0]["stages"][0]["id"]
    stage_ids = {
        "missing": [c, b],
        "repeated": [c, b, b],
        "unknown": [c, b, str(uuid.uuid4())],
        "other_pipeline": [c, b, other["stages"][0]["id"]],
        "extra": [c, b, a, other["stages"][0]["id"]],
        "other_organization": [c, b, foreign],
    }[case]
    with live.client() as client:
        response = client.put(f"/pipelines/{pipeline['id']}/stage-order", json={"stage_ids": stage_ids})
        assert error_code(response, 400) == "stage_order_not_permutation"
        assert client.get(f"/pipelines/{pipeline['id']}").json() == pipeline


def test_reorder_validates_its_body(live: LiveServer) -> None:
    """An empty list or an id that is not a UUID is a 400 validation_failed."""
    pipeline = new_pipeline(live, "Body", ["A"])
    with live.client() as client:
        for body in ({"stage_ids": []}, {"stage_ids": ["not-a-uuid"]}, {}):
            assert error_code(client.put(f"/pipelines/{pipeline['id']}/stage-order", json=body), 400) == "validation_failed"


def test_reorder_pipeline_of_another_organization_is_404(live: LiveServer, pipeline_id: str) -> None:
    """Reordering another organization's pipeline is a 404 pipeline_not_found."""
    with live.client() as client:
        stage_ids = [stage["id"] for stage in client.get(f"/pipelines/{pipeline_id}").json()["stages"]]
    with live.client("bruno", "globex") as client:
        response = client.put(f"/pipelines/{pipeline_id}/stage-order", json={"stage_ids": stage_ids[::-1]})
        assert error_code(response, 404) == "pipeline_not_found"
    with live.client() as client:
        assert [stage["id"] for stage in client.get(f"/pipelines/{pipeline_id}").json()["stages"]] == stage_ids
