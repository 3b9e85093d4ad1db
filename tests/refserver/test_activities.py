"""A lead's activity timeline over real HTTP: notes, stage changes, pages, roles and tenants."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from apollospace_refserver.seed import ORGANIZATIONS, user_by_key

from .conftest import LiveServer
from .helpers import Receiver, conforms, error_code, subscribed, valid


@pytest.fixture()
def receiver(live: LiveServer) -> Iterator[Receiver]:
    """A receiver subscribed to Acme's activity.created events for the duration of one test."""
    with subscribed(live, "/hooks/activities", ["activity.created"]) as receiver:
        yield receiver


def new_lead(live: LiveServer, pipeline_id: str, name: str = "Timeline Lead") -> dict[str, Any]:
    with live.client() as client:
        return conforms(client.post("/leads", json={"contact_name": name, "pipeline_id": pipeline_id}), "Lead", 201)  # type: ignore[no-any-return]


def timeline(client: httpx.Client, lead_id: str, **params: Any) -> list[dict[str, Any]]:
    """Every activity of the lead, walking all pages."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        page = conforms(client.get(f"/leads/{lead_id}/activities", params=query), "ActivityPage", 200)
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_a_note_appears_on_the_timeline(live: LiveServer, pipeline_id: str) -> None:
    """createLeadActivity adds a note by the caller, now, answers 201 with the timeline as Location, and the note is listed."""
    lead = new_lead(live, pipeline_id)
    with live.client("mia") as client:
        response = client.post(f"/leads/{lead['id']}/activities", json={"body": "Asked for a proposal."})
        note = conforms(response, "Activity", 201)
        assert response.headers["Location"] == f"/v1/leads/{lead['id']}/activities"
        listed = timeline(client, lead["id"])
    assert note["type"] == "note"
    assert note["body"] == "Asked for a proposal."
    assert note["lead_id"] == lead["id"]
    assert note["actor"] == {"type": "user", "id": user_by_key("mia").id}
    assert note["is_reply"] is False
    assert note["occurred_at"] == note["created_at"]
    assert note["created_at"].endswith("Z") and note["created_at"] >= lead["created_at"]
    assert listed == [note]


def test_timeline_is_newest_first_and_pages_without_gaps(live: LiveServer, pipeline_id: str) -> None:
    """Walking the timeline with limit 2 returns every activity once, newest first, and ends on a null cursor."""
    lead = new_lead(live, pipeline_id)
    with live.client() as client:
        notes = [conforms(client.post(f"/leads/{lead['id']}/activities", json={"body": f"Note {i}"}), "Activity", 201) for i in range(5)]
        first = conforms(client.get(f"/leads/{lead['id']}/activities", params={"limit": 2}), "ActivityPage", 200)
        assert len(first["items"]) == 2 and first["next_cursor"]
        walked = timeline(client, lead["id"], limit=2)
    assert [item["id"] for item in walked] == [note["id"] for note in reversed(notes)]
    assert [item["occurred_at"] for item in walked] == sorted((item["occurred_at"] for item in walked), reverse=True)


def test_stage_changes_are_recorded_and_filterable_by_type(live: LiveServer, pipeline_id: str) -> None:
    """Moving a lead to another stage records a stage_change by the mover; the type filter returns only that type."""
    lead = new_lead(live, pipeline_id)
    with live.client() as client:
        stages = client.get(f"/pipelines/{pipeline_id}").json()["stages"]
        conforms(client.post(f"/leads/{lead['id']}/activities", json={"body": "Before the move"}), "Activity", 201)
    with live.client("arthur") as client:
        conforms(client.patch(f"/leads/{lead['id']}", json={"stage_id": stages[1]["id"]}), "Lead", 200)
        everything = timeline(client, lead["id"])
        changes = timeline(client, lead["id"], type="stage_change")
        notes = timeline(client, lead["id"], type="note")
        assert timeline(client, lead["id"], type="call") == []
    assert [item["type"] for item in everything] == ["stage_change", "note"]
    assert changes == everything[:1]
    assert changes[0]["actor"] == {"type": "user", "id": user_by_key("arthur").id}
    assert notes == everything[1:]


def test_timeline_refuses_foreign_cursors(live: LiveServer, pipeline_id: str) -> None:
    """A forged cursor, another lead's cursor or a cursor issued under another filter is a 400 invalid_cursor."""
    lead, other = new_lead(live, pipeline_id), new_lead(live, pipeline_id)
    with live.client() as client:
        for target in (lead, other):
            for i in range(2):
                client.post(f"/leads/{target['id']}/activities", json={"body": f"Note {i}"})
        cursor = client.get(f"/leads/{lead['id']}/activities", params={"limit": 1}).json()["next_cursor"]
        assert cursor
        assert conforms(client.get(f"/leads/{lead['id']}/activities", params={"limit": 1, "cursor": cursor}), "ActivityPage", 200)["items"]
        for url, params in (
            (f"/leads/{other['id']}/activities", {"cursor": cursor}),
            (f"/leads/{lead['id']}/activities", {"cursor": cursor, "type": "note"}),
            (f"/leads/{lead['id']}/activities", {"cursor": cursor[:-2] + "xx"}),
        ):
            assert error_code(client.get(url, params=params), 400) == "invalid_cursor"


def test_every_role_reads_the_timeline_but_viewers_cannot_add_notes(live: LiveServer, pipeline_id: str) -> None:
    """Owners, admins, members and viewers list activities; a viewer's note is a 403 insufficient_role and adds nothing."""
    lead = new_lead(live, pipeline_id)
    for user in ("olivia", "arthur", "mia"):
        with live.client(user) as client:
            conforms(client.post(f"/leads/{lead['id']}/activities", json={"body": f"By {user}"}), "Activity", 201)
    with live.client("victor") as client:
        assert error_code(client.post(f"/leads/{lead['id']}/activities", json={"body": "By victor"}), 403) == "insufficient_role"
        assert [item["body"] for item in timeline(client, lead["id"])] == ["By mia", "By arthur", "By olivia"]


def test_activities_of_another_organizations_lead_are_404(live: LiveServer, pipeline_id: str) -> None:
    """Reading or adding to the timeline of another organization's lead, or of an unknown lead, is a 404 lead_not_found."""
    lead = new_lead(live, pipeline_id)
    with live.client("bruno", "globex") as client:
        for lead_id in (lead["id"], str(uuid.uuid4())):
            assert error_code(client.get(f"/leads/{lead_id}/activities"), 404) == "lead_not_found"
            assert error_code(client.post(f"/leads/{lead_id}/activities", json={"body": "Hi"}), 404) == "lead_not_found"
    with live.client() as client:
        assert timeline(client, lead["id"]) == []


def test_activities_of_a_deleted_lead_are_404(live: LiveServer, pipeline_id: str) -> None:
    """Once a lead is deleted, its timeline is a 404 lead_not_found."""
    lead = new_lead(live, pipeline_id)
    with live.client() as client:
        client.post(f"/leads/{lead['id']}/activities", json={"body": "Soon gone"})
        assert client.delete(f"/leads/{lead['id']}").status_code == 204
        assert error_code(client.get(f"/leads/{lead['id']}/activities"), 404) == "lead_not_found"


def test_a_note_body_is_validated(live: LiveServer, pipeline_id: str) -> None:
    """An empty, missing, too long or extra-field note is a 400 validation_failed, and an unknown type filter too."""
    lead = new_lead(live, pipeline_id)
    with live.client() as client:
        for body in ({"body": ""}, {}, {"body": "x" * 10001}, {"body": "ok", "type": "call"}):
            assert error_code(client.post(f"/leads/{lead['id']}/activities", json=body), 400) == "validation_failed"
        assert error_code(client.get(f"/leads/{lead['id']}/activities", params={"type": "fax"}), 400) == "validation_failed"
        assert error_code(client.get(f"/leads/{lead['id']}/activities", params={"limit": 0}), 400) == "validation_failed"
        assert timeline(client, lead["id"]) == []


def test_a_retried_note_is_added_once(live: LiveServer, pipeline_id: str) -> None:
    """Retrying createLeadActivity with the same Idempotency-Key replays the first note and adds no second one."""
    lead = new_lead(live, pipeline_id)
    key = str(uuid.uuid4())
    with live.client() as client:
        first = conforms(client.post(f"/leads/{lead['id']}/activities", json={"body": "Once"}, headers={"Idempotency-Key": key}), "Activity", 201)
        again = client.post(f"/leads/{lead['id']}/activities", json={"body": "Once"}, headers={"Idempotency-Key": key})
        assert conforms(again, "Activity", 201) == first
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert len(timeline(client, lead["id"])) == 1


def test_notes_and_stage_changes_send_activity_created(live: LiveServer, pipeline_id: str, receiver: Receiver) -> None:
    """Adding a note or moving a lead to another stage delivers activity.created whose data is the activity, as listed."""
    lead = new_lead(live, pipeline_id)
    with live.client() as client:
        note = conforms(client.post(f"/leads/{lead['id']}/activities", json={"body": "Webhook me"}), "Activity", 201)
        stage = client.get(f"/pipelines/{pipeline_id}").json()["stages"][2]
        conforms(client.patch(f"/leads/{lead['id']}", json={"stage_id": stage["id"]}), "Lead", 200)
        listed = timeline(client, lead["id"])
    events = receiver.wait_for(2)
    for event in events:
        valid("ActivityCreatedEvent", event)
    delivered = sorted((event["data"]["activity"] for event in events), key=lambda activity: activity["occurred_at"], reverse=True)
    assert delivered == listed
    assert delivered[1] == note
    assert {event["type"] for event in events} == {"activity.created"}
    assert {event["organization_id"] for event in events} == {ORGANIZATIONS[0].id}


# --- inbound messages (logInboundMessage) ---------------------------------------------------


def test_an_inbound_message_is_logged_as_a_reply(live: LiveServer, pipeline_id: str) -> None:
    """logInboundMessage adds an activity of the message's channel by the system, is_reply true, now, with the timeline as Location."""
    lead = new_lead(live, pipeline_id)
    with live.client("mia") as client:
        note = conforms(client.post(f"/leads/{lead['id']}/activities", json={"body": "Sent the proposal."}), "Activity", 201)
        response = client.post(f"/leads/{lead['id']}/inbound-messages", json={"channel": "whatsapp", "body": "Recebi, obrigado!"})
        reply = conforms(response, "Activity", 201)
        assert response.headers["Location"] == f"/v1/leads/{lead['id']}/activities"
        listed = timeline(client, lead["id"])
        replies = timeline(client, lead["id"], type="whatsapp")
    assert reply["type"] == "whatsapp" and reply["body"] == "Recebi, obrigado!" and reply["lead_id"] == lead["id"]
    assert reply["actor"] == {"type": "system", "id": None}
    assert reply["is_reply"] is True
    assert reply["occurred_at"] == reply["created_at"] >= note["created_at"]
    assert listed == [reply, note]
    assert replies == [reply]


def test_every_channel_is_accepted_and_other_types_refused(live: LiveServer, pipeline_id: str) -> None:
    """email, whatsapp and sms are logged; any other channel, an empty body or an extra field is a 400 validation_failed."""
    lead = new_lead(live, pipeline_id)
    url = f"/leads/{lead['id']}/inbound-messages"
    with live.client() as client:
        for body in ({"channel": "note", "body": "Hi"}, {"channel": "call", "body": "Hi"}, {"channel": "email", "body": ""},
                     {"channel": "email"}, {"body": "Hi"}, {"channel": "sms", "body": "Hi", "is_reply": False}):
            assert error_code(client.post(url, json=body), 400) == "validation_failed"
        assert timeline(client, lead["id"]) == []
        logged = [conforms(client.post(url, json={"channel": channel, "body": f"By {channel}"}), "Activity", 201) for channel in ("email", "whatsapp", "sms")]
    assert [activity["type"] for activity in logged] == ["email", "whatsapp", "sms"]
    assert all(activity["is_reply"] for activity in logged)


def test_viewers_cannot_log_inbound_messages_nor_other_organizations(live: LiveServer, pipeline_id: str) -> None:
    """A viewer gets 403 insufficient_role; another organization's lead or an unknown lead is a 404 lead_not_found; nothing is logged."""
    lead = new_lead(live, pipeline_id)
    message = {"channel": "email", "body": "Please call me back."}
    with live.client("victor") as client:
        assert error_code(client.post(f"/leads/{lead['id']}/inbound-messages", json=message), 403) == "insufficient_role"
    with live.client("bruno", "globex") as client:
        for lead_id in (lead["id"], str(uuid.uuid4())):
            assert error_code(client.post(f"/leads/{lead_id}/inbound-messages", json=message), 404) == "lead_not_found"
    with live.client() as client:
        assert timeline(client, lead["id"]) == []


def test_a_retried_inbound_message_is_logged_once(live: LiveServer, pipeline_id: str, receiver: Receiver) -> None:
    """Retrying logInboundMessage with the same Idempotency-Key replays the first activity and sends activity.created once."""
    lead = new_lead(live, pipeline_id)
    key = str(uuid.uuid4())
    message = {"channel": "sms", "body": "Yes, Thursday works."}
    with live.client() as client:
        first = conforms(client.post(f"/leads/{lead['id']}/inbound-messages", json=message, headers={"Idempotency-Key": key}), "Activity", 201)
        again = client.post(f"/leads/{lead['id']}/inbound-messages", json=message, headers={"Idempotency-Key": key})
        assert conforms(again, "Activity", 201) == first
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert timeline(client, lead["id"]) == [first]
    [event] = receiver.wait_for(1)
    assert event["data"]["activity"] == first
    time.sleep(0.3)  # the delivery worker polls every 10 ms: a second event would be here by now
    assert len(receiver.bodies) == 1
