"""Lead imports over real HTTP: the asynchronous job, duplicate policies, dry runs, roles, tenants and crash safety."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from apollospace_refserver.operations import imports
from apollospace_refserver.seed import user_by_key

from .conftest import FAST, LiveServer, start_server
from .helpers import conforms, error_code, subscribed, valid


def wait_done(client: httpx.Client, import_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """Poll getLeadImport until completed_at is set, checking every answer against the schema."""
    deadline = time.monotonic() + timeout
    while True:
        job = conforms(client.get(f"/lead-imports/{import_id}"), "LeadImport", 200)
        processed = sum(job["counts"][name] for name in ("created", "updated", "skipped", "failed"))
        assert processed == len(job["results"])
        assert [result["row_index"] for result in job["results"]] == list(range(processed))
        if job["completed_at"] is not None:
            assert job["status"] in ("succeeded", "failed")
            return job  # type: ignore[no-any-return]
        assert job["status"] in ("queued", "running")
        assert time.monotonic() < deadline, f"import still {job['status']} after {timeout}s"
        time.sleep(0.02)


def run_import(client: httpx.Client, pipeline_id: str, rows: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    job = conforms(client.post("/lead-imports", json={"pipeline_id": pipeline_id, "rows": rows, **options}), "LeadImport", 201)
    return wait_done(client, job["id"])


def leads_tagged(client: httpx.Client, tag: str) -> list[dict[str, Any]]:
    """Every lead with `tag`, all pages."""
    leads: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"tag": tag, "limit": 200, **({"cursor": cursor} if cursor else {})}
        page = conforms(client.get("/leads", params=params), "LeadPage", 200)
        leads += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return leads


def outcomes(job: dict[str, Any]) -> list[str]:
    return [result["outcome"] for result in job["results"]]


@pytest.fixture()
def tag() -> str:
    """A tag no other test uses, to find the leads of one test."""
    return f"imp-{uuid.uuid4().hex[:12]}"


def test_an_import_is_queued_then_creates_one_lead_per_row(live: LiveServer, pipeline_id: str, tag: str) -> None:
    """createLeadImport answers 201 queued with a Location; the job then succeeds with a created lead per row in the first stage."""
    rows = [
        {"contact_name": "Rafael Menezes", "company_name": "Porto Verde", "email": f"rafael.{tag}@portoverde.example",
         "phone": "+5521998765432", "tags": [tag, "trade_show"], "value_cents": 1800000, "city": "Rio de Janeiro", "country": "BR",
         "owner_id": user_by_key("mia").id, "custom_fields": {"fleet_size": 42}},
        {"contact_name": "Mariana Souza", "tags": [tag]},
    ]
    with live.client("mia") as client:
        response = client.post("/lead-imports", json={"pipeline_id": pipeline_id, "rows": rows})
        queued = conforms(response, "LeadImport", 201)
        assert response.headers["Location"] == f"/v1/lead-imports/{queued['id']}"
        assert queued["status"] == "queued"
        assert queued["results"] == [] and queued["completed_at"] is None
        assert queued["counts"] == {"total": 2, "created": 0, "updated": 0, "skipped": 0, "failed": 0}
        assert (queued["dry_run"], queued["duplicate_policy"], queued["pipeline_id"]) == (False, "skip", pipeline_id)
        job = wait_done(client, queued["id"])
        leads = {lead["id"]: lead for lead in leads_tagged(client, tag)}
        first_stage = client.get(f"/pipelines/{pipeline_id}").json()["stages"][0]
    assert job["status"] == "succeeded"
    assert job["counts"] == {"total": 2, "created": 2, "updated": 0, "skipped": 0, "failed": 0}
    assert outcomes(job) == ["created", "created"]
    assert all(result["error"] is None for result in job["results"])
    assert job["completed_at"] >= job["created_at"] and job["updated_at"] == job["completed_at"]
    assert set(leads) == {result["lead_id"] for result in job["results"]}
    rafael = leads[job["results"][0]["lead_id"]]
    assert {k: rafael[k] for k in ("contact_name", "phone", "value_cents", "owner_id", "custom_fields")} == {
        "contact_name": "Rafael Menezes", "phone": "+5521998765432", "value_cents": 1800000,
        "owner_id": user_by_key("mia").id, "custom_fields": {"fleet_size": 42}}
    assert all(lead["stage_id"] == first_stage["id"] and lead["pipeline_id"] == pipeline_id for lead in leads.values())


def test_duplicates_are_skipped_by_default(live: LiveServer, pipeline_id: str, tag: str) -> None:
    """With the default policy, a row matching a lead by email (any case) or phone is skipped and the lead is left unchanged."""
    with live.client() as client:
        by_email = client.post("/leads", json={"contact_name": "Existing Email", "pipeline_id": pipeline_id, "email": f"dup.{tag}@example.com"}).json()
        by_phone = client.post("/leads", json={"contact_name": "Existing Phone", "pipeline_id": pipeline_id, "phone": "+5511900000001"}).json()
        rows = [
            {"contact_name": "Changed", "email": f"DUP.{tag}@Example.com", "tags": [tag]},
            {"contact_name": "Changed", "phone": "+5511900000001", "tags": [tag]},
            {"contact_name": "Fresh", "email": f"fresh.{tag}@example.com", "tags": [tag]},
        ]
        job = run_import(client, pipeline_id, rows)
        assert conforms(client.get(f"/leads/{by_email['id']}"), "Lead", 200) == by_email
        assert conforms(client.get(f"/leads/{by_phone['id']}"), "Lead", 200) == by_phone
        assert [lead["contact_name"] for lead in leads_tagged(client, tag)] == ["Fresh"]
    assert outcomes(job) == ["skipped", "skipped", "created"]
    assert [result["lead_id"] for result in job["results"][:2]] == [by_email["id"], by_phone["id"]]
    assert job["counts"] == {"total": 3, "created": 1, "updated": 0, "skipped": 2, "failed": 0}


def test_duplicates_are_updated_in_place_with_policy_update(live: LiveServer, pipeline_id: str, tag: str) -> None:
    """With policy update, the row's fields overwrite the matched lead's, which stays in its own pipeline and stage."""
    with live.client() as client:
        other = client.post("/pipelines", json={"name": "Import target"}).json()
        stage = client.get(f"/pipelines/{pipeline_id}").json()["stages"][2]
        lead = client.post("/leads", json={
            "contact_name": "Old Name", "pipeline_id": pipeline_id, "stage_id": stage["id"], "email": f"upd.{tag}@example.com",
            "city": "Recife", "value_cents": 10,
        }).json()
        job = run_import(client, other["id"], [{"contact_name": "New Name", "email": f"upd.{tag}@example.com", "value_cents": 99, "tags": [tag]}],
                         duplicate_policy="update")
        updated = conforms(client.get(f"/leads/{lead['id']}"), "Lead", 200)
    assert outcomes(job) == ["updated"] and job["results"][0]["lead_id"] == lead["id"]
    assert job["counts"]["updated"] == 1
    assert (updated["contact_name"], updated["value_cents"], updated["tags"], updated["city"]) == ("New Name", 99, [tag], "Recife")
    assert (updated["pipeline_id"], updated["stage_id"]) == (pipeline_id, stage["id"])


def test_duplicates_are_created_anyway_with_policy_create(live: LiveServer, pipeline_id: str, tag: str) -> None:
    """With policy create, a row matching an existing lead creates a new lead and the old one is untouched."""
    with live.client() as client:
        lead = client.post("/leads", json={"contact_name": "Twin", "pipeline_id": pipeline_id, "email": f"twin.{tag}@example.com", "tags": [tag]}).json()
        job = run_import(client, pipeline_id, [{"contact_name": "Twin 2", "email": f"twin.{tag}@example.com", "tags": [tag]}], duplicate_policy="create")
        tagged = leads_tagged(client, tag)
        assert conforms(client.get(f"/leads/{lead['id']}"), "Lead", 200) == lead
    assert outcomes(job) == ["created"] and job["results"][0]["lead_id"] != lead["id"]
    assert sorted(item["contact_name"] for item in tagged) == ["Twin", "Twin 2"]


def test_a_row_can_duplicate_an_earlier_row_of_the_same_import(live: LiveServer, pipeline_id: str, tag: str) -> None:
    """Rows are processed in order, so a row matching a lead created by an earlier row follows the policy."""
    rows = [{"contact_name": "First", "email": f"same.{tag}@example.com", "tags": [tag]},
            {"contact_name": "Second", "email": f"same.{tag}@example.com", "tags": [tag]}]
    with live.client() as client:
        job = run_import(client, pipeline_id, rows)
        assert [lead["contact_name"] for lead in leads_tagged(client, tag)] == ["First"]
    assert outcomes(job) == ["created", "skipped"]
    assert job["results"][1]["lead_id"] == job["results"][0]["lead_id"]


def test_email_and_phone_matching_two_leads(live: LiveServer, pipeline_id: str, tag: str) -> None:
    """When a row's email and phone match two different leads, skip reports the email's lead and update fails with ambiguous_duplicate."""
    phone = "+5511900000777"
    with live.client() as client:
        by_email = client.post("/leads", json={"contact_name": "Email One", "pipeline_id": pipeline_id, "email": f"amb.{tag}@example.com"}).json()
        by_phone = client.post("/leads", json={"contact_name": "Phone One", "pipeline_id": pipeline_id, "phone": phone}).json()
        row = {"contact_name": "Both", "email": f"amb.{tag}@example.com", "phone": phone}
        skipped = run_import(client, pipeline_id, [row])
        failed = run_import(client, pipeline_id, [row], duplicate_policy="update")
        assert conforms(client.get(f"/leads/{by_email['id']}"), "Lead", 200) == by_email
        assert conforms(client.get(f"/leads/{by_phone['id']}"), "Lead", 200) == by_phone
    assert skipped["results"][0] == {"row_index": 0, "outcome": "skipped", "lead_id": by_email["id"], "error": None}
    assert failed["status"] == "succeeded"
    result = failed["results"][0]
    assert (result["outcome"], result["lead_id"], result["error"]["code"]) == ("failed", None, "ambiguous_duplicate")
    assert failed["counts"]["failed"] == 1


def test_a_row_with_a_foreign_owner_fails_alone(live: LiveServer, pipeline_id: str, tag: str) -> None:
    """A row whose owner_id is not a member fails with owner_not_member; the other rows are imported and the job succeeds."""
    rows = [{"contact_name": "Good", "tags": [tag]},
            {"contact_name": "Bad owner", "owner_id": user_by_key("bruno").id, "tags": [tag]},
            {"contact_name": "Also good", "tags": [tag]}]
    with live.client() as client:
        job = run_import(client, pipeline_id, rows)
        names = sorted(lead["contact_name"] for lead in leads_tagged(client, tag))
    assert job["status"] == "succeeded"
    assert outcomes(job) == ["created", "failed", "created"]
    assert job["results"][1]["lead_id"] is None and job["results"][1]["error"]["code"] == "owner_not_member"
    assert job["counts"] == {"total": 3, "created": 2, "updated": 0, "skipped": 0, "failed": 1}
    assert names == ["Also good", "Good"]


def test_a_dry_run_reports_and_changes_nothing(live: LiveServer, pipeline_id: str, tag: str) -> None:
    """A dry run reports would_create, would_update, would_skip or failed per row, counts them, and creates or changes nothing."""
    with live.client() as client:
        existing = client.post("/leads", json={"contact_name": "Existing", "pipeline_id": pipeline_id, "email": f"dry.{tag}@example.com", "tags": [tag]}).json()
        rows = [
            {"contact_name": "New", "email": f"new.{tag}@example.com", "tags": [tag]},
            {"contact_name": "Renamed", "email": f"DRY.{tag}@example.com", "phone": "+5511900000999", "tags": [tag]},
            {"contact_name": "Same as row 0", "email": f"new.{tag}@example.com", "tags": [tag]},
            {"contact_name": "Same phone as row 1's update", "phone": "+5511900000999"},
            {"contact_name": "Bad owner", "owner_id": user_by_key("bruno").id},
        ]
        update = run_import(client, pipeline_id, rows, dry_run=True, duplicate_policy="update")
        skip = run_import(client, pipeline_id, rows, dry_run=True)
        assert conforms(client.get(f"/leads/{existing['id']}"), "Lead", 200) == existing
        assert [lead["id"] for lead in leads_tagged(client, tag)] == [existing["id"]]
    assert update["dry_run"] is True and update["status"] == "succeeded"
    assert [(r["outcome"], r["lead_id"]) for r in update["results"]] == [
        ("would_create", None), ("would_update", existing["id"]), ("would_update", None), ("would_update", existing["id"]), ("failed", None)]
    assert update["counts"] == {"total": 5, "created": 1, "updated": 3, "skipped": 0, "failed": 1}
    assert [(r["outcome"], r["lead_id"]) for r in skip["results"]] == [
        ("would_create", None), ("would_skip", existing["id"]), ("would_skip", None), ("would_create", None), ("failed", None)]
    assert skip["counts"] == {"total": 5, "created": 2, "updated": 0, "skipped": 2, "failed": 1}


def test_imported_leads_enter_the_first_active_stage(live: LiveServer, tag: str) -> None:
    """When the pipeline's first stage is archived, imported leads enter the next active stage."""
    with live.client() as client:
        pipeline = client.post("/pipelines", json={"name": "Archived entry", "stages": [{"name": "Gone"}, {"name": "Entry"}]}).json()
        client.post(f"/pipelines/{pipeline['id']}/stages/{pipeline['stages'][0]['id']}/archive")
        job = run_import(client, pipeline["id"], [{"contact_name": "Entrant", "tags": [tag]}])
        (lead,) = leads_tagged(client, tag)
    assert outcomes(job) == ["created"]
    assert (lead["stage_id"], lead["stage"]) == (pipeline["stages"][1]["id"], "Entry")


def test_a_retried_import_returns_the_same_job_and_imports_once(live: LiveServer, pipeline_id: str, tag: str) -> None:
    """Retrying createLeadImport with the same Idempotency-Key replays the same job and never imports the rows twice."""
    key = str(uuid.uuid4())
    body = {"pipeline_id": pipeline_id, "rows": [{"contact_name": "Once", "tags": [tag]}], "duplicate_policy": "create"}
    with live.client() as client:
        first = conforms(client.post("/lead-imports", json=body, headers={"Idempotency-Key": key}), "LeadImport", 201)
        wait_done(client, first["id"])
        again = client.post("/lead-imports", json=body, headers={"Idempotency-Key": key})
        assert conforms(again, "LeadImport", 201)["id"] == first["id"]
        assert again.headers.get("Idempotent-Replayed") == "true"
        time.sleep(0.2)
        assert len(leads_tagged(client, tag)) == 1


def test_an_invalid_import_is_refused_whole(live: LiveServer, pipeline_id: str) -> None:
    """No rows, more than 1000 rows, a row that does not match LeadImportRow or an unknown policy is a 400 validation_failed."""
    bodies = [
        {"pipeline_id": pipeline_id, "rows": []},
        {"pipeline_id": pipeline_id, "rows": [{"contact_name": "x"}] * 1001},
        {"pipeline_id": pipeline_id, "rows": [{"contact_name": "ok"}, {"contact_name": "bad", "email": "not-an-email"}]},
        {"pipeline_id": pipeline_id, "rows": [{"contact_name": "ok", "stage_id": str(uuid.uuid4())}]},
        {"pipeline_id": pipeline_id, "rows": [{"contact_name": "ok"}], "duplicate_policy": "merge"},
        {"rows": [{"contact_name": "ok"}]},
    ]
    with live.client() as client:
        for body in bodies:
            assert error_code(client.post("/lead-imports", json=body), 400) == "validation_failed"


def test_import_roles(live: LiveServer, pipeline_id: str, tag: str) -> None:
    """Owners, admins and members may import; a viewer gets 403 insufficient_role but may read a job."""
    body = {"pipeline_id": pipeline_id, "rows": [{"contact_name": "By role", "tags": [tag]}], "duplicate_policy": "create"}
    jobs = []
    for user in ("olivia", "arthur", "mia"):
        with live.client(user) as client:
            jobs.append(conforms(client.post("/lead-imports", json=body), "LeadImport", 201)["id"])
    with live.client("victor") as client:
        assert error_code(client.post("/lead-imports", json=body), 403) == "insufficient_role"
        for job_id in jobs:
            assert wait_done(client, job_id)["status"] == "succeeded"
        assert len(leads_tagged(client, tag)) == 3


def test_imports_are_isolated_between_organizations(live: LiveServer, pipeline_id: str) -> None:
    """Another organization's job or pipeline is a 404: import_not_found and pipeline_not_found, like unknown ids."""
    with live.client() as client:
        job = conforms(client.post("/lead-imports", json={"pipeline_id": pipeline_id, "rows": [{"contact_name": "Mine"}]}), "LeadImport", 201)
        assert error_code(client.post("/lead-imports", json={"pipeline_id": str(uuid.uuid4()), "rows": [{"contact_name": "x"}]}), 404) == "pipeline_not_found"
        assert error_code(client.get(f"/lead-imports/{uuid.uuid4()}"), 404) == "import_not_found"
    with live.client("bruno", "globex") as client:
        assert error_code(client.get(f"/lead-imports/{job['id']}"), 404) == "import_not_found"
        assert error_code(client.post("/lead-imports", json={"pipeline_id": pipeline_id, "rows": [{"contact_name": "x"}]}), 404) == "pipeline_not_found"


def test_a_real_import_sends_lead_created_per_created_lead_and_a_dry_run_none(live: LiveServer, pipeline_id: str, tag: str) -> None:
    """Each lead a real import creates sends lead.created; skipped and updated rows and every dry-run row send nothing."""
    with subscribed(live, "/hooks/imports", ["lead.created"]) as receiver, live.client() as client:
        existing = client.post("/leads", json={"contact_name": "Known", "pipeline_id": pipeline_id, "email": f"known.{tag}@example.com"}).json()
        rows = [{"contact_name": "Hooked 1", "tags": [tag]}, {"contact_name": "Known", "email": f"known.{tag}@example.com"},
                {"contact_name": "Hooked 2", "tags": [tag]}]
        run_import(client, pipeline_id, rows, dry_run=True)
        job = run_import(client, pipeline_id, rows)
        run_import(client, pipeline_id, rows[1:2], duplicate_policy="update")
        created = {result["lead_id"] for result in job["results"] if result["outcome"] == "created"}
        receiver.wait_for(3)
        time.sleep(0.3)  # room for any extra, wrong delivery to arrive
    for event in receiver.bodies:
        valid("LeadCreatedEvent", event)
    assert len(created) == 2
    assert sorted(event["data"]["lead"]["id"] for event in receiver.bodies) == sorted([existing["id"], *created])


def test_rows_match_only_leads_of_the_same_organization(live: LiveServer, tag: str) -> None:
    """A lead of another organization with the same email is no duplicate."""
    email = f"shared.{tag}@example.com"
    with live.client("bruno", "globex") as client:
        globex_pipeline = client.get("/pipelines").json()["items"][0]["id"]
        client.post("/leads", json={"contact_name": "Globex twin", "pipeline_id": globex_pipeline, "email": email})
    with live.client() as client:
        acme_pipeline = client.get("/pipelines").json()["items"][0]["id"]
        job = run_import(client, acme_pipeline, [{"contact_name": "Acme twin", "email": email, "tags": [tag]}])
    assert outcomes(job) == ["created"]


def test_a_job_that_cannot_finish_fails_and_keeps_the_rows_done(live: LiveServer, pipeline_id: str, tag: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the job itself breaks on a row, it ends failed with completed_at set; earlier rows keep their outcome and lead, later ones none."""
    real_insert = imports.insert_lead

    def insert_or_break(call: Any, fields: dict[str, Any]) -> dict[str, Any]:
        if fields["contact_name"] == "Breaks":
            raise RuntimeError("simulated storage failure")
        return real_insert(call, fields)

    monkeypatch.setattr(imports, "insert_lead", insert_or_break)
    rows = [{"contact_name": "Before", "tags": [tag]}, {"contact_name": "Breaks", "tags": [tag]}, {"contact_name": "After", "tags": [tag]}]
    with live.client() as client:
        job = run_import(client, pipeline_id, rows)
        names = [lead["contact_name"] for lead in leads_tagged(client, tag)]
    assert job["status"] == "failed" and job["completed_at"] is not None
    assert outcomes(job) == ["created"]
    assert job["counts"] == {"total": 3, "created": 1, "updated": 0, "skipped": 0, "failed": 0}
    assert names == ["Before"]


# --- crash safety -------------------------------------------------------------------------------


class SimulatedCrash(BaseException):
    """Escapes every `except Exception`: the worker thread dies mid-transaction, as in a kill."""


@pytest.fixture()
def file_settings(tmp_path: Path) -> Any:
    return replace(FAST, database=str(tmp_path / "apollospace.sqlite3"), data_dir=tmp_path)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_an_import_interrupted_mid_row_resumes_without_importing_a_row_twice(
    file_settings: Any, monkeypatch: pytest.MonkeyPatch, tag: str
) -> None:
    """A worker that dies after writing a row's lead but before its result loses that row's effect, and a restart completes every row exactly once."""
    rows = [{"contact_name": f"Crash {i}", "email": f"crash{i}.{tag}@example.com", "tags": [tag]} for i in range(10)]
    crash, crashed = True, threading.Event()
    real_store = imports._store_result

    def store_then_crash(conn: sqlite3.Connection, import_id: str, index: int, outcome: Any) -> None:
        lead = conn.execute("SELECT email FROM leads WHERE id = ?", (outcome[1],)).fetchone()
        if crash and index == 4 and lead is not None and tag in lead["email"]:  # row 4's lead is written; its result never commits
            crashed.set()
            raise SimulatedCrash
        real_store(conn, import_id, index, outcome)

    monkeypatch.setattr(imports, "_store_result", store_then_crash)
    first = start_server(file_settings)
    try:
        with first.client() as client:
            pipeline_id = client.get("/pipelines").json()["items"][0]["id"]
            job = conforms(client.post("/lead-imports", json={"pipeline_id": pipeline_id, "rows": rows}), "LeadImport", 201)
            assert crashed.wait(10)
            # The next request waits for the dying worker's rollback (it holds the database lock).
            interrupted = conforms(client.get(f"/lead-imports/{job['id']}"), "LeadImport", 200)
            assert len(leads_tagged(client, tag)) == 4
    finally:
        first.stop()
        first.services.db.close()
    assert interrupted["status"] == "running" and interrupted["completed_at"] is None
    assert outcomes(interrupted) == ["created"] * 4

    crash = False
    second = start_server(file_settings)
    try:
        with second.client() as client:
            done = wait_done(client, job["id"])
            leads = leads_tagged(client, tag)
    finally:
        second.stop()
        second.services.db.close()
    assert done["status"] == "succeeded"
    assert [result["row_index"] for result in done["results"]] == list(range(10))
    assert outcomes(done) == ["created"] * 10
    assert done["results"][:4] == interrupted["results"]
    assert sorted(lead["email"] for lead in leads) == sorted(row["email"] for row in rows)
    assert {lead["id"] for lead in leads} == {result["lead_id"] for result in done["results"]}


def _serve(data_dir: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """The reference server as a separate process on a SQLite file, and its credentials."""
    credentials = data_dir / "credentials.json"
    credentials.unlink(missing_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "apollospace_refserver.cli", "--data-dir", str(data_dir), "serve", "--port", "0", "--credentials-file", str(credentials)],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            creds = json.loads(credentials.read_text("utf-8"))
            with httpx.Client() as probe:
                if probe.get(creds["url"].removesuffix("/v1") + "/healthz").status_code == 200:
                    return process, creds
        except (OSError, ValueError, httpx.HTTPError):
            pass
        assert process.poll() is None, "the server exited"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)


@pytest.fixture()
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_an_import_survives_a_kill_9_of_the_server(tmp_path: Path, processes: list[subprocess.Popen[bytes]], tag: str) -> None:
    """A server killed with SIGKILL mid-import resumes after a restart on the same file, and every row is imported exactly once."""
    rows = [{"contact_name": f"Killed {i}", "email": f"kill{i}.{tag}@example.com", "tags": [tag]} for i in range(1000)]
    process, creds = _serve(tmp_path)
    processes.append(process)

    def client(creds: dict[str, Any]) -> httpx.Client:
        return httpx.Client(base_url=creds["url"], timeout=30, headers={
            "Authorization": f"Bearer {creds['tenant_a']['token']}", "X-Organization-Id": creds["tenant_a"]["organization_id"]})

    with client(creds) as api:
        pipeline_id = api.get("/pipelines").json()["items"][0]["id"]
        jobs = [conforms(api.post("/lead-imports", json={"pipeline_id": pipeline_id, "rows": rows, "duplicate_policy": "create"}), "LeadImport", 201)["id"]
                for _ in range(2)]
        while not api.get(f"/lead-imports/{jobs[0]}").json()["results"]:
            time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    db = sqlite3.connect(tmp_path / "apollospace.sqlite3")
    try:
        at_kill = db.execute("SELECT COUNT(*) FROM lead_import_results").fetchone()[0]
        leads_at_kill = db.execute("SELECT COUNT(*) FROM leads").fetchone()[0]
    finally:
        db.close()
    assert 0 < at_kill < 2000, "the kill should land mid-import"
    assert leads_at_kill == at_kill  # every committed lead has its committed result, and no more

    process, creds = _serve(tmp_path)
    processes.append(process)
    with client(creds) as api:
        done = [wait_done(api, job_id, timeout=120) for job_id in jobs]
        leads = leads_tagged(api, tag)
    process.terminate()
    process.wait(timeout=10)
    for job in done:
        assert job["status"] == "succeeded"
        assert [result["row_index"] for result in job["results"]] == list(range(1000))
        assert job["counts"] == {"total": 1000, "created": 1000, "updated": 0, "skipped": 0, "failed": 0}
    assert len(leads) == 2000
    assert sorted(lead["id"] for lead in leads) == sorted(result["lead_id"] for job in done for result in job["results"])
    emails = [lead["email"] for lead in leads]
    assert all(emails.count(row["email"]) == 2 for row in rows[:20])
