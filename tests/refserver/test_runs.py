"""Runs over real HTTP: lifecycle, trace, costs against the ledger and the balance, listing, cancel."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from .conftest import FAST, LiveServer, start_server
from .helpers import (
    TERMINAL,
    agent_id,
    balance,
    conforms,
    error_code,
    ledger,
    wait_billed,
    wait_terminal,
)

MINUS_3 = timezone(-timedelta(hours=3))


def invoke(client: httpx.Client, agent: str, prompt: str, **extra: Any) -> dict[str, Any]:
    run = conforms(client.post(f"/agents/{agent}/runs", json={"input": {"prompt": prompt}, **extra}), "Run", 201)
    return dict(run)


def total(client: httpx.Client) -> int:
    return int(balance(client)["total"])


def run_lines(client: httpx.Client, run: dict[str, Any]) -> list[dict[str, Any]]:
    """The ledger lines of one run, oldest first."""
    return [line for line in ledger(client, agent_id=run["agent_id"]) if line["run_id"] == run["id"]][::-1]


def assert_accounts(client: httpx.Client, run: dict[str, Any], steps: list[dict[str, Any]]) -> None:
    """Step costs, debit lines and the run's cost agree."""
    assert sum(step["stars_cost"] for step in steps) == run["stars_cost"]
    lines = run_lines(client, run)
    assert all(line["type"] == "debit" and line["amount"] < 0 for line in lines)
    assert -sum(line["amount"] for line in lines) == run["stars_cost"]


@pytest.fixture(scope="module")
def slow() -> Iterator[LiveServer]:
    """A server whose runs wait 0.25 s between steps, slow enough to cancel them."""
    server = start_server(replace(FAST, run_step_seconds=0.25))
    yield server
    server.stop()


def test_run_moves_from_queued_through_running_to_succeeded_and_stays(live: LiveServer) -> None:
    """A run is created queued, is seen only in lifecycle order, ends succeeded with an output and never changes again."""
    with live.client() as client:
        run = invoke(client, agent_id(client, "Scout"), "Find the logistics director of Vela Logística.", metadata={"ticket": "HUB-1"})
        assert (run["status"], run["stars_cost"], run["output"], run["started_at"], run["finished_at"]) == ("queued", 0, None, None, None)
        assert run["input"] == {"prompt": "Find the logistics director of Vela Logística.", "lead_id": None}
        assert run["metadata"] == {"ticket": "HUB-1"}
        seen = ["queued"]
        while seen[-1] not in TERMINAL:
            status = conforms(client.get(f"/runs/{run['id']}"), "Run", 200)["status"]
            if status != seen[-1]:
                seen.append(status)
            time.sleep(0.005)
        assert seen in (["queued", "running", "succeeded"], ["queued", "succeeded"])
        final = wait_terminal(client, run["id"])
        assert final["output"]["text"] and final["blocked_by"] is None and final["stars_cost"] > 0
        assert final["created_at"] <= final["started_at"] <= final["finished_at"]
        time.sleep(0.1)
        assert conforms(client.get(f"/runs/{run['id']}"), "Run", 200) == final


def test_trace_is_ordered_and_its_costs_match_the_run_the_ledger_and_the_balance(live: LiveServer) -> None:
    """Every billable step follows a passed budget check, and step costs = run cost = debit lines = balance decrease."""
    with live.client() as client:
        before = total(client)
        run = wait_terminal(client, invoke(client, agent_id(client, "Athena"), "Plan tomorrow's prospecting for the logistics segment.")["id"])
        trace = conforms(client.get(f"/runs/{run['id']}/trace"), "RunTrace", 200)
        steps = trace["steps"]
        assert trace["run_id"] == run["id"] and run["status"] == "succeeded"
        assert [step["index"] for step in steps] == list(range(len(steps)))
        billable = [s for s in steps if s["type"] in ("model_call", "tool_call")]
        assert 2 <= len(billable) <= 5 and all(3 <= s["stars_cost"] <= 40 for s in billable)
        for step in billable:
            check = steps[step["index"] - 1]
            assert check["type"] == "budget_check" and check["status"] == "succeeded" and check["stars_cost"] == 0
            assert check["input"]["estimated_stars"] == step["stars_cost"] and check["output"] == {"allowed": True, "blocked_by": None}
        assert steps[-1]["type"] == "message" and steps[-1]["output"]["text"] == run["output"]["text"]
        assert all(s["status"] == "succeeded" for s in steps)
        for earlier, later in zip(steps, steps[1:], strict=False):
            assert earlier["started_at"] <= earlier["finished_at"] <= later["started_at"]
        assert_accounts(client, run, steps)
        assert before - total(client) == run["stars_cost"]


def test_the_same_input_gives_the_same_steps_and_costs(live: LiveServer) -> None:
    """Runs are deterministic: the same prompt to the same agent gives the same steps and the same cost."""
    with live.client() as client:
        scout = agent_id(client, "Scout")
        runs = [wait_terminal(client, invoke(client, scout, "Enrich every lead of Vela Logística.")["id"]) for _ in range(2)]
        shapes = [
            [(s["type"], s["name"], s["input"], s["stars_cost"]) for s in conforms(client.get(f"/runs/{r['id']}/trace"), "RunTrace", 200)["steps"]]
            for r in runs
        ]
        assert shapes[0] == shapes[1] and runs[0]["stars_cost"] == runs[1]["stars_cost"]


def test_list_runs_newest_first_with_filters_and_cursor(live: LiveServer) -> None:
    """listRuns pages newest first, filters by agent, status and creation time, and binds cursors to the filters."""
    with live.client("mia") as client:
        marcus = agent_id(client, "Marcus")
        created = [invoke(client, marcus, f"Draft follow-up #{n} for Proposal sent.") for n in range(3)]
        for run in created:
            wait_terminal(client, run["id"])
        first = conforms(client.get("/runs", params={"agent_id": marcus, "limit": 2}), "RunPage", 200)
        assert len(first["items"]) == 2 and first["next_cursor"]
        rest = conforms(client.get("/runs", params={"agent_id": marcus, "limit": 2, "cursor": first["next_cursor"]}), "RunPage", 200)
        walked = first["items"] + rest["items"]
        assert [r["id"] for r in walked[:3]] == [r["id"] for r in reversed(created)]
        assert all(r["agent_id"] == marcus for r in walked)
        keys = [(r["created_at"], r["id"]) for r in walked]
        assert keys == sorted(keys, reverse=True)
        succeeded = conforms(client.get("/runs", params={"status": "succeeded", "limit": 200}), "RunPage", 200)["items"]
        assert succeeded and all(r["status"] == "succeeded" for r in succeeded)
        assert conforms(client.get("/runs", params={"status": "canceled"}), "RunPage", 200)["items"] == []
        cut = datetime.fromisoformat(created[1]["created_at"].replace("Z", "+00:00")).astimezone(MINUS_3)
        after = conforms(client.get("/runs", params={"agent_id": marcus, "created_after": cut.isoformat()}), "RunPage", 200)["items"]
        assert [r["id"] for r in after] == [created[2]["id"], created[1]["id"]]
        assert error_code(client.get("/runs", params={"agent_id": marcus, "cursor": first["next_cursor"], "status": "succeeded"}), 400) == "invalid_cursor"


def test_cancel_a_queued_run_before_it_starts(slow: LiveServer) -> None:
    """A queued run canceled at once ends canceled, never started, with no step and no Stars spent."""
    with slow.client() as client:
        before = total(client)
        run = invoke(client, agent_id(client, "Scout"), "Research Vela Logística.")
        canceled = conforms(client.post(f"/runs/{run['id']}/cancel"), "Run", 200)
        assert (canceled["status"], canceled["started_at"], canceled["stars_cost"]) == ("canceled", None, 0)
        assert canceled["finished_at"] is not None and canceled["output"] is None
        time.sleep(1.0)
        assert conforms(client.get(f"/runs/{run['id']}"), "Run", 200) == canceled
        assert conforms(client.get(f"/runs/{run['id']}/trace"), "RunTrace", 200)["steps"] == []
        assert total(client) == before
        assert error_code(client.post(f"/runs/{run['id']}/cancel"), 409) == "run_not_cancelable"


def test_cancel_a_running_run_stops_it_and_keeps_only_finished_steps_debited(slow: LiveServer) -> None:
    """A run canceled while running executes and debits no further step; what it spent matches its trace and the ledger."""
    with slow.client("arthur") as client:
        before = total(client)
        run = invoke(client, agent_id(client, "Athena"), "Delegate the research of ten logistics leads.")
        wait_billed(client, run["id"])
        canceled = conforms(client.post(f"/runs/{run['id']}/cancel"), "Run", 200)
        assert canceled["status"] == "canceled" and canceled["started_at"] and canceled["finished_at"]
        assert canceled["stars_cost"] > 0 and canceled["output"] is None
        steps = conforms(client.get(f"/runs/{run['id']}/trace"), "RunTrace", 200)["steps"]
        time.sleep(1.0)
        assert conforms(client.get(f"/runs/{run['id']}"), "Run", 200) == canceled
        assert conforms(client.get(f"/runs/{run['id']}/trace"), "RunTrace", 200)["steps"] == steps
        assert steps[-1]["type"] != "message"  # it did not finish
        assert_accounts(client, canceled, steps)
        assert before - total(client) == canceled["stars_cost"]
        assert error_code(client.post(f"/runs/{run['id']}/cancel"), 409) == "run_not_cancelable"


def test_a_finished_run_is_not_cancelable(live: LiveServer) -> None:
    """Canceling a succeeded run is a 409 run_not_cancelable and changes nothing."""
    with live.client() as client:
        run = wait_terminal(client, invoke(client, agent_id(client, "Scout"), "Check Vela Logística's website.")["id"])
        assert error_code(client.post(f"/runs/{run['id']}/cancel"), 409) == "run_not_cancelable"
        assert conforms(client.get(f"/runs/{run['id']}"), "Run", 200) == run


def test_runs_of_another_organization_are_404_and_not_listed(live: LiveServer) -> None:
    """Another organization's run is a 404 run_not_found for get, trace and cancel, and never listed."""
    with live.client() as acme, live.client("bruno", "globex") as globex:
        run = invoke(acme, agent_id(acme, "Scout"), "Research a lead for Acme only.")
        for response in (globex.get(f"/runs/{run['id']}"), globex.get(f"/runs/{run['id']}/trace"), globex.post(f"/runs/{run['id']}/cancel")):
            assert error_code(response, 404) == "run_not_found"
        assert error_code(acme.get(f"/runs/{uuid.uuid4()}"), 404) == "run_not_found"
        listed = conforms(globex.get("/runs", params={"limit": 200}), "RunPage", 200)["items"]
        assert run["id"] not in {r["id"] for r in listed}
        wait_terminal(acme, run["id"])


def test_viewers_read_runs_but_cannot_cancel(live: LiveServer) -> None:
    """A viewer may list and read runs and traces but gets 403 insufficient_role on cancel."""
    with live.client() as owner, live.client("victor") as viewer:
        run = invoke(owner, agent_id(owner, "Scout"), "Research one more logistics lead.")
        conforms(viewer.get(f"/runs/{run['id']}"), "Run", 200)
        conforms(viewer.get(f"/runs/{run['id']}/trace"), "RunTrace", 200)
        conforms(viewer.get("/runs"), "RunPage", 200)
        assert error_code(viewer.post(f"/runs/{run['id']}/cancel"), 403) == "insufficient_role"
        wait_terminal(owner, run["id"])


def test_list_runs_rejects_a_forged_cursor(live: LiveServer) -> None:
    """A cursor the server did not issue is a 400 invalid_cursor."""
    with live.client() as client:
        assert error_code(client.get("/runs", params={"cursor": "eyJzIjoieCIsInAiOltdfQ.forged"}), 400) == "invalid_cursor"


def test_created_after_accepts_any_offset(live: LiveServer) -> None:
    """created_after with a -03:00 offset is the same instant as in UTC."""
    with live.client() as client:
        future = (datetime.now(UTC) + timedelta(hours=1)).astimezone(MINUS_3).isoformat()
        assert conforms(client.get("/runs", params={"created_after": future}), "RunPage", 200)["items"] == []
