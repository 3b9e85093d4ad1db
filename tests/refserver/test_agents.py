"""Agents over real HTTP: listing, reading, invoking, and one run per Idempotency-Key under concurrency."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import httpx

from apollospace_refserver.seed import user_by_key

from .conftest import LiveServer
from .helpers import all_runs, balance, conforms, error_code, put_caps, settle, wait_terminal


def agents(client: httpx.Client) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for a in conforms(client.get("/agents"), "AgentPage", 200)["items"]}


def test_list_agents_oldest_first_one_page_at_a_time(live: LiveServer) -> None:
    """listAgents walks the three built-in personas oldest first (then by id) with cursors."""
    with live.client("victor") as client:
        first = conforms(client.get("/agents", params={"limit": 2}), "AgentPage", 200)
        assert len(first["items"]) == 2 and first["next_cursor"]
        rest = conforms(client.get("/agents", params={"limit": 2, "cursor": first["next_cursor"]}), "AgentPage", 200)
        assert rest["next_cursor"] is None
        walked = first["items"] + rest["items"]
        assert sorted(a["name"] for a in walked) == ["Athena", "Marcus", "Scout"]
        assert [(a["created_at"], a["id"]) for a in walked] == sorted((a["created_at"], a["id"]) for a in walked)
        personas = {a["name"]: a["persona"] for a in walked}
        assert personas == {"Athena": "chief_of_staff", "Scout": "research", "Marcus": "outbound"}
        assert all(a["daily_cap_stars"] == 5000 for a in walked)
        assert error_code(client.get("/agents", params={"cursor": "bm90LWEtY3Vyc29y.abc"}), 400) == "invalid_cursor"


def test_get_agent_and_foreign_or_unknown_ids_are_404(live: LiveServer) -> None:
    """getAgent returns the agent; an agent of another organization is a 404 agent_not_found like an unknown id."""
    with live.client() as acme, live.client("bea", "globex") as globex:
        scout = agents(acme)["Scout"]
        assert conforms(acme.get(f"/agents/{scout['id']}"), "Agent", 200) == scout
        assert error_code(globex.get(f"/agents/{scout['id']}"), 404) == "agent_not_found"
        assert error_code(acme.get(f"/agents/{uuid.uuid4()}"), 404) == "agent_not_found"
        assert error_code(globex.post(f"/agents/{scout['id']}/runs", json={"input": {"prompt": "x"}}), 404) == "agent_not_found"


def test_agent_shows_the_daily_cap_in_effect(live: LiveServer) -> None:
    """daily_cap_stars is the agent's own entry in the caps (null lifts it) or the default, and updated_at moves with it."""
    with live.client("arthur") as client:
        before = agents(client)
        scout, athena = before["Scout"]["id"], before["Athena"]["id"]
        try:
            put_caps(client, agent_daily_default=700, agents=[{"agent_id": scout, "daily": 900}, {"agent_id": athena, "daily": None}])
            after = agents(client)
            assert {n: a["daily_cap_stars"] for n, a in after.items()} == {"Scout": 900, "Athena": None, "Marcus": 700}
            assert all(after[n]["updated_at"] > before[n]["updated_at"] for n in after)
            assert all(after[n]["created_at"] == before[n]["created_at"] for n in after)
        finally:
            put_caps(client)
        assert {n: a["daily_cap_stars"] for n, a in agents(client).items()} == {"Scout": 5000, "Athena": 5000, "Marcus": 5000}


def test_invoke_creates_a_queued_run_that_can_be_read_back(live: LiveServer) -> None:
    """invokeAgent answers 201 with a queued run, its Location, the input as sent and nothing spent yet."""
    with live.client("mia") as client:
        lead = client.get("/leads", params={"limit": 1}).json()["items"]
        pipeline = client.get("/pipelines").json()["items"][0]["id"]
        if not lead:
            created = client.post("/leads", json={"contact_name": "Ana Ribeiro", "pipeline_id": pipeline})
            assert created.status_code == 201, created.text
            lead = [created.json()]
        scout = agents(client)["Scout"]["id"]
        body = {"input": {"prompt": "Research Vela Logística.", "lead_id": lead[0]["id"].upper()}, "metadata": {"campaign": "q3"}}
        response = client.post(f"/agents/{scout}/runs", json=body)
        run = conforms(response, "Run", 201)
        assert response.headers["Location"] == f"/v1/runs/{run['id']}"
        assert (run["status"], run["stars_cost"], run["agent_id"], run["blocked_by"]) == ("queued", 0, scout, None)
        assert run["input"] == {"prompt": "Research Vela Logística.", "lead_id": lead[0]["id"]}
        assert run["invoked_by"] == user_by_key("mia").id and run["metadata"] == {"campaign": "q3"}
        assert conforms(client.get(f"/runs/{run['id']}"), "Run", 200)["id"] == run["id"]
        assert wait_terminal(client, run["id"])["status"] == "succeeded"


def test_invoke_refuses_unknown_leads_bad_bodies_and_viewers(live: LiveServer) -> None:
    """A lead outside the organization is 404 lead_not_found, a body without prompt is 400, a viewer is 403; none creates a run."""
    with live.client() as owner, live.client("victor") as viewer:
        scout = agents(owner)["Scout"]["id"]
        count = len(all_runs(owner))
        assert error_code(owner.post(f"/agents/{scout}/runs", json={"input": {"prompt": "x", "lead_id": str(uuid.uuid4())}}), 404) == "lead_not_found"
        assert error_code(owner.post(f"/agents/{scout}/runs", json={"input": {}}), 400) == "validation_failed"
        assert error_code(owner.post(f"/agents/{scout}/runs", json={"input": {"prompt": "x"}, "stars": 5}), 400) == "validation_failed"
        assert error_code(viewer.post(f"/agents/{scout}/runs", json={"input": {"prompt": "x"}}), 403) == "insufficient_role"
        assert len(all_runs(owner)) == count


def test_twenty_concurrent_invocations_with_one_key_create_one_run_and_debit_once(live: LiveServer) -> None:
    """20 simultaneous invokeAgent calls with one Idempotency-Key make one run, debited once; the rest replay it or get 409 in progress."""
    with live.client() as client:
        settle(client)  # measure the balance with no other run spending
        balance_before = balance(client)["total"]
        runs_before = len(all_runs(client))
        scout = agents(client)["Scout"]["id"]
        key = str(uuid.uuid4())
        body = {"input": {"prompt": f"Research Vela Logística ({key})."}}
        barrier = threading.Barrier(20)
        responses: list[httpx.Response] = []
        lock = threading.Lock()

        def call() -> None:
            with live.client("olivia", "acme", **{"Idempotency-Key": key}) as own:
                barrier.wait()
                response = own.post(f"/agents/{scout}/runs", json=body)
            with lock:
                responses.append(response)

        threads = [threading.Thread(target=call) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(responses) == 20
        created = [r for r in responses if r.status_code == 201]
        in_progress = [r for r in responses if r.status_code == 409]
        assert len(created) + len(in_progress) == 20, [r.status_code for r in responses]
        for response in in_progress:
            assert error_code(response, 409) == "idempotency_request_in_progress"
        first = [r for r in created if r.headers.get("Idempotent-Replayed") != "true"]
        assert len(first) == 1, "exactly one request ran the operation"
        run = conforms(first[0], "Run", 201)
        for response in created:
            assert conforms(response, "Run", 201) == run and response.headers["Location"] == f"/v1/runs/{run['id']}"
        final = wait_terminal(client, run["id"])
        assert len(all_runs(client)) == runs_before + 1
        replay = client.post(f"/agents/{scout}/runs", json=body, headers={"Idempotency-Key": key})
        assert conforms(replay, "Run", 201) == run and replay.headers["Idempotent-Replayed"] == "true"
        assert error_code(client.post(f"/agents/{scout}/runs", json={"input": {"prompt": "other"}}, headers={"Idempotency-Key": key}), 409) == "idempotency_key_reused"
        time.sleep(0.2)
        lines = [
            line for line in conforms(client.get("/stars/transactions", params={"agent_id": scout, "limit": 200}), "StarsTransactionPage", 200)["items"]
            if line["run_id"] == run["id"]
        ]
        assert -sum(line["amount"] for line in lines) == final["stars_cost"] > 0
        assert balance_before - balance(client)["total"] == final["stars_cost"]
        assert len(all_runs(client)) == runs_before + 1
