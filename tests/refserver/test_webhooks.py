"""Webhooks over real HTTP: subscriptions, signed deliveries to a real loopback receiver, retries,
secret rotation, test events, the delivery log and the URL policy.

Every JSON response is validated against its schema in the bundled spec, every
delivered payload against its event's schema in the spec's `webhooks:` section,
and every signature with the independent `standardwebhooks` library. A guard
refuses any connection from this process to a non-loopback address, so a
refused target is provably never contacted.
"""

from __future__ import annotations

import errno
import http.server
import ipaddress
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from apollospace_refserver.events import EventPayloadInvalid, emit_event
from apollospace_refserver.operations.webhooks import sample_data
from apollospace_refserver.seed import ORGANIZATIONS
from apollospace_refserver.url_policy import UrlPolicy, classify
from apollospace_refserver.webhook_signing import (
    SignatureError,
    new_secret,
    secret_key,
    sign,
    verify,
)
from apollospace_spec import bundled_spec, iter_operations
from apollospace_spec.model import resolve
from apollospace_spec.validation import SchemaValidator, describe

from .conftest import FAST, LiveServer, start_server

SPEC = bundled_spec()
VALIDATOR = SchemaValidator(SPEC)
OPERATIONS = {op.operation_id: op for op in iter_operations(SPEC)}
EVENT_TYPES = list(SPEC["webhooks"])
ORG = {org.key: org.id for org in ORGANIZATIONS}
OWNER = {"acme": "olivia", "globex": "bruno"}


def event_pointer(event_type: str) -> str:
    """The `#/components/schemas/...Event` pointer of an event type, from the spec's `webhooks:`."""
    return str(
        SPEC["webhooks"][event_type]["post"]["requestBody"]["content"]["application/json"][
            "schema"
        ]["$ref"]
    )


def assert_valid(instance: Any, pointer: str) -> None:
    """Fail with every schema error of `instance` against the schema at `pointer`."""
    errors = [describe(error) for error in VALIDATOR.for_pointer(pointer).iter_errors(instance)]
    assert not errors, f"invalid against {pointer}: {errors}"


def checked(response: httpx.Response, operation_id: str, status: int) -> Any:
    """The JSON body of `response`, its status asserted and the body validated against the spec."""
    assert response.status_code == status, f"{operation_id}: {response.status_code} {response.text}"
    declared = resolve(SPEC, OPERATIONS[operation_id].responses[str(status)])
    content = declared.get("content")
    if content is None:
        assert response.content == b""
        return None
    body = response.json()
    schema = content["application/json"]["schema"]
    errors = [describe(error) for error in VALIDATOR.for_schema(schema).iter_errors(body)]
    assert not errors, f"{operation_id} {status} body invalid: {errors}"
    return body


def error_code(response: httpx.Response, operation_id: str, status: int) -> str:
    return str(checked(response, operation_id, status)["error"]["code"])


# --- a real receiver --------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A threaded HTTP server on loopback that records requests and answers scripted statuses."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._script: dict[str, tuple[list[int], int]] = {}
        self._changed = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver._record(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                self.send_response(receiver._status_for(self.path))
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def answer(self, path: str, *statuses: int, then: int = 200) -> None:
        """Answer `path` with `statuses` in order, then always with `then`."""
        self._script[path] = (list(statuses), then)

    def _status_for(self, path: str) -> int:
        statuses, then = self._script.get(path, ([], 200))
        return statuses.pop(0) if statuses else then

    def _record(self, request: Received) -> None:
        with self._changed:
            self.requests.append(request)
            self._changed.notify_all()

    def at(self, path: str) -> list[Received]:
        with self._changed:
            return [r for r in self.requests if r.path == path]

    def wait_for(self, path: str, count: int, timeout: float = 10.0) -> list[Received]:
        """The first `count` requests to `path`, waiting for them to arrive."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(got := [r for r in self.requests if r.path == path]) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{path}: {len(got)} of {count} requests arrived"
                self._changed.wait(left)
        return got[:count]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """One loopback receiver per module; each test uses its own paths."""
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Refuses, and records, any connection this process tries to open to a non-loopback address."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    violations: list[Any] = []

    def allowed(sock: socket.socket, address: Any) -> bool:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return True
        try:
            return ipaddress.ip_address(str(address[0]).split("%")[0]).is_loopback
        except ValueError:
            return False

    def connect(sock: socket.socket, address: Any) -> None:
        if not allowed(sock, address):
            violations.append(address)
            raise OSError(errno.EACCES, f"test guard: no traffic to non-loopback {address}")
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        if not allowed(sock, address):
            violations.append(address)
            return errno.EACCES
        return int(real_connect_ex(sock, address))

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield violations
    assert not violations, f"connections attempted to non-loopback addresses: {violations}"


def new_path() -> str:
    return f"/hooks/{uuid.uuid4()}"


Subscribe = Callable[..., dict[str, Any]]


@pytest.fixture()
def subscribe(live: LiveServer, receiver: Receiver) -> Iterator[Subscribe]:
    """Creates subscriptions (to the receiver by default) and deletes them after the test."""
    created: list[tuple[str, str]] = []

    def make(
        path: str | None = None,
        *,
        org: str = "acme",
        url: str | None = None,
        events: list[str] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        body = {
            "url": url or receiver.url(path or new_path()),
            "events": events or ["lead.created"],
            **fields,
        }
        with live.client(OWNER[org], org) as client:
            response = client.post("/webhooks", json=body)
        subscription = checked(response, "createWebhookSubscription", 201)
        assert response.headers["location"] == f"/v1/webhooks/{subscription['id']}"
        created.append((org, subscription["id"]))
        return dict(subscription)

    yield make
    for org, webhook_id in created:
        with live.client(OWNER[org], org) as client:
            assert client.delete(f"/webhooks/{webhook_id}").status_code in (204, 404)


# --- helpers over the API ---------------------------------------------------------------------


def default_pipeline_id(live: LiveServer, org: str = "acme") -> str:
    """The default pipeline: from listPipelines when it answers, else from the database."""
    with live.client(OWNER[org], org) as client:
        response = client.get("/pipelines")
    if response.status_code == 200:
        items = response.json()["items"]
        return str(next((p for p in items if p.get("is_default")), items[0])["id"])
    with live.services.db.transaction() as conn:
        row = conn.execute(
            "SELECT id FROM pipelines WHERE org_id = ? AND is_default = 1", (ORG[org],)
        ).fetchone()
    return str(row["id"])


def create_lead(live: LiveServer, org: str = "acme", **fields: Any) -> dict[str, Any]:
    body = {
        "contact_name": "Mariana Souza",
        "company_name": "Vela Logística",
        "email": f"{uuid.uuid4().hex[:10]}@velalogistica.com.br",
        "pipeline_id": default_pipeline_id(live, org),
        **fields,
    }
    with live.client(OWNER[org], org) as client:
        return dict(checked(client.post("/leads", json=body), "createLead", 201))


def deliveries(
    live: LiveServer, webhook_id: str, org: str = "acme", **params: Any
) -> list[dict[str, Any]]:
    with live.client(OWNER[org], org) as client:
        return list(
            checked(
                client.get(f"/webhooks/{webhook_id}/deliveries", params=params),
                "listWebhookDeliveries",
                200,
            )["items"]
        )


def wait_for_deliveries(
    live: LiveServer,
    webhook_id: str,
    done: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 10.0,
    org: str = "acme",
) -> list[dict[str, Any]]:
    """The subscription's delivery log once `done(log)` holds."""
    deadline = time.monotonic() + timeout
    while True:
        log = deliveries(live, webhook_id, org)
        if done(log):
            return log
        assert time.monotonic() < deadline, f"delivery log never settled: {log}"
        time.sleep(0.05)


def settled(count: int = 1) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda log: len(log) >= count and all(d["status"] != "pending" for d in log)


def send_test_event(
    live: LiveServer, webhook_id: str, event_type: str = "lead.created", org: str = "acme"
) -> httpx.Response:
    with live.client(OWNER[org], org) as client:
        return client.post(f"/webhooks/{webhook_id}/test", json={"type": event_type})


def rotate(
    live: LiveServer, webhook_id: str, body: dict[str, Any] | None = None, **headers: str
) -> httpx.Response:
    with live.client("olivia", "acme", **headers) as client:
        return (
            client.post(f"/webhooks/{webhook_id}/rotate-secret", json=body)
            if body is not None
            else client.post(f"/webhooks/{webhook_id}/rotate-secret")
        )


def signatures(request: Received) -> list[str]:
    return request.headers["webhook-signature"].split(" ")


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- deliveries of real events ----------------------------------------------------------------


def test_lead_created_is_delivered_signed_and_valid(
    live: LiveServer, receiver: Receiver, subscribe: Subscribe
) -> None:
    """Creating a lead delivers a signed lead.created matching its schema and the lead."""
    path = new_path()
    subscription = subscribe(path, events=["lead.created"], description="CRM sync of new leads")
    assert subscription["enabled"] is True
    lead = create_lead(live)
    [request] = receiver.wait_for(path, 1)
    payload = Webhook(subscription["secret"]).verify(request.body, request.headers)
    assert_valid(payload, "#/components/schemas/LeadCreatedEvent")
    assert payload["type"] == "lead.created" and payload["test"] is False
    assert payload["organization_id"] == ORG["acme"]
    assert payload["data"]["lead"] == lead
    assert request.headers["webhook-id"] == payload["id"]
    assert request.headers["content-type"] == "application/json"
    assert len(signatures(request)) == 1
    [delivery] = wait_for_deliveries(live, subscription["id"], settled())
    assert (
        delivery["status"] == "succeeded"
        and delivery["test"] is False
        and delivery["event_type"] == "lead.created"
    )
    assert delivery["event_id"] == payload["id"] and delivery["next_attempt_at"] is None
    [attempt] = delivery["attempts"]
    assert attempt["number"] == 1 and attempt["response_status"] == 200 and attempt["error"] is None


def test_a_logged_inbound_message_sends_reply_detected_and_activity_created(
    live: LiveServer, receiver: Receiver, subscribe: Subscribe
) -> None:
    """logInboundMessage delivers a signed reply.detected (and activity.created) about the reply; notes send no reply.detected."""
    reply_path, activity_path = new_path(), new_path()
    replies = subscribe(reply_path, events=["reply.detected"])
    activities = subscribe(activity_path, events=["activity.created"])
    lead = create_lead(live)
    with live.client() as client:
        checked(client.post(f"/leads/{lead['id']}/activities", json={"body": "Sent the proposal."}), "createLeadActivity", 201)
        reply = checked(
            client.post(f"/leads/{lead['id']}/inbound-messages", json={"channel": "email", "body": "Could you send the proposal by Friday?"}),
            "logInboundMessage",
            201,
        )
    [request] = receiver.wait_for(reply_path, 1)
    payload = Webhook(replies["secret"]).verify(request.body, request.headers)
    assert_valid(payload, event_pointer("reply.detected"))
    assert payload["type"] == "reply.detected" and payload["test"] is False
    assert payload["organization_id"] == ORG["acme"] and request.headers["webhook-id"] == payload["id"]
    assert payload["data"] == {"activity": reply, "lead_id": lead["id"], "channel": "email"}
    created = [Webhook(activities["secret"]).verify(got.body, got.headers) for got in receiver.wait_for(activity_path, 2)]
    for event in created:
        assert_valid(event, event_pointer("activity.created"))
    [about_reply] = [event for event in created if event["data"]["activity"]["id"] == reply["id"]]
    assert about_reply["data"]["activity"] == reply and about_reply["id"] != payload["id"]
    time.sleep(0.2)
    assert len(receiver.at(reply_path)) == 1 and len(receiver.at(activity_path)) == 2


def test_only_enabled_subscriptions_to_the_type_receive_the_event(
    live: LiveServer, receiver: Receiver, subscribe: Subscribe
) -> None:
    """Disabled or other-type subscriptions get nothing; a re-enabled one gets later events only."""
    on_path, off_path, other_path = new_path(), new_path(), new_path()
    on = subscribe(on_path)
    off = subscribe(off_path, enabled=False)
    other = subscribe(other_path, events=["activity.created", "reply.detected"])
    assert off["enabled"] is False
    first = create_lead(live)
    receiver.wait_for(on_path, 1)
    wait_for_deliveries(live, on["id"], settled())
    assert deliveries(live, off["id"]) == [] and deliveries(live, other["id"]) == []
    assert receiver.at(off_path) == [] and receiver.at(other_path) == []
    with live.client() as client:
        enabled = checked(
            client.patch(f"/webhooks/{off['id']}", json={"enabled": True}),
            "updateWebhookSubscription",
            200,
        )
    assert enabled["enabled"] is True
    second = create_lead(live)
    [request] = receiver.wait_for(off_path, 1)
    payload = Webhook(off["secret"]).verify(request.body, request.headers)
    assert payload["data"]["lead"]["id"] == second["id"] != first["id"]
    time.sleep(0.2)
    assert len(receiver.at(off_path)) == 1


def test_one_event_reaches_every_subscription_with_one_event_id(
    live: LiveServer, receiver: Receiver, subscribe: Subscribe
) -> None:
    """Two subscriptions each get the event, signed with their own secret, under one event id."""
    path_a, path_b = new_path(), new_path()
    a, b = subscribe(path_a), subscribe(path_b)
    create_lead(live)
    [got_a], [got_b] = receiver.wait_for(path_a, 1), receiver.wait_for(path_b, 1)
    assert (
        Webhook(a["secret"]).verify(got_a.body, got_a.headers)["id"]
        == Webhook(b["secret"]).verify(got_b.body, got_b.headers)["id"]
    )
    with pytest.raises(WebhookVerificationError):
        Webhook(a["secret"]).verify(got_b.body, got_b.headers)


def test_failed_attempt_is_retried_with_the_same_webhook_id(
    live: LiveServer, receiver: Receiver, subscribe: Subscribe
) -> None:
    """A receiver failing once gets a same-webhook-id retry, and the log shows both attempts."""
    path = new_path()
    receiver.answer(path, 503)
    subscription = subscribe(path)
    create_lead(live)
    first, second = receiver.wait_for(path, 2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    for request in (first, second):
        assert_valid(
            Webhook(subscription["secret"]).verify(request.body, request.headers),
            "#/components/schemas/LeadCreatedEvent",
        )
    [delivery] = wait_for_deliveries(live, subscription["id"], settled())
    assert delivery["status"] == "succeeded" and delivery["event_id"] == first.headers["webhook-id"]
    assert [(a["number"], a["response_status"], a["error"]) for a in delivery["attempts"]] == [
        (1, 503, None),
        (2, 200, None),
    ]
    gap = instant(delivery["attempts"][1]["attempted_at"]) - instant(
        delivery["attempts"][0]["attempted_at"]
    )
    assert gap >= timedelta(seconds=live.services.settings.webhook_retry_schedule[0])


def test_delivery_fails_after_the_retry_schedule(
    live: LiveServer, receiver: Receiver, subscribe: Subscribe
) -> None:
    """A receiver that never acknowledges gets every scheduled attempt, then the delivery fails."""
    path = new_path()
    receiver.answer(path, then=500)
    subscription = subscribe(path)
    created = checked(send_test_event(live, subscription["id"]), "sendWebhookTestEvent", 201)
    [delivery] = wait_for_deliveries(live, subscription["id"], settled())
    expected = 1 + len(live.services.settings.webhook_retry_schedule)
    assert (
        delivery["id"] == created["id"]
        and delivery["status"] == "failed"
        and delivery["next_attempt_at"] is None
    )
    assert [(a["number"], a["response_status"]) for a in delivery["attempts"]] == [
        (n, 500) for n in range(1, expected + 1)
    ]
    assert len({r.headers["webhook-id"] for r in receiver.wait_for(path, expected)}) == 1
    time.sleep(0.5)
    assert len(receiver.at(path)) == expected
    assert [d["id"] for d in deliveries(live, subscription["id"], status="failed")] == [
        delivery["id"]
    ]
    assert deliveries(live, subscription["id"], status="pending") == []


def test_unreachable_receiver_is_logged_with_an_error(
    live: LiveServer, subscribe: Subscribe
) -> None:
    """An attempt that gets no answer is logged with a null status and the reason."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    subscription = subscribe(url=f"http://127.0.0.1:{closed_port}/gone")
    checked(send_test_event(live, subscription["id"]), "sendWebhookTestEvent", 201)
    [delivery] = wait_for_deliveries(live, subscription["id"], settled())
    assert delivery["status"] == "failed"
    for attempt in delivery["attempts"]:
        assert (
            attempt["response_status"] is None and attempt["error"] and attempt["duration_ms"] >= 0
        )


def test_emit_event_queues_in_the_callers_transaction(
    live: LiveServer, receiver: Receiver, subscribe: Subscribe
) -> None:
    """An event emitted in a rolled-back transaction queues nothing; invalid payloads raise."""
    path = new_path()
    subscription = subscribe(path)
    lead = sample_data("lead.created")["lead"]
    with pytest.raises(RuntimeError, match="roll back"):
        with live.services.db.transaction() as conn:
            emit_event(conn, ORG["acme"], "lead.created", {"lead": lead})
            raise RuntimeError("roll back")
    with live.services.db.transaction() as conn:
        with pytest.raises(EventPayloadInvalid):
            emit_event(conn, ORG["acme"], "lead.created", {"lead": {**lead, "id": 42}})
        with pytest.raises(ValueError):
            emit_event(conn, ORG["acme"], "lead.deleted", {})
    time.sleep(0.2)
    assert deliveries(live, subscription["id"]) == [] and receiver.at(path) == []
    with live.services.db.transaction() as conn:
        emit_event(conn, ORG["acme"], "lead.created", {"lead": lead})
    [request] = receiver.wait_for(path, 1)
    assert (
        Webhook(subscription["secret"]).verify(request.body, request.headers)["data"]["lead"]
        == lead
    )


# --- test events ------------------------------------------------------------------------------


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_test_event_of_each_type(
    live: LiveServer, receiver: Receiver, subscribe: Subscribe, event_type: str
) -> None:
    """A test event arrives signed, valid and with test: true, even when not subscribed to it."""
    path = new_path()
    others = [t for t in EVENT_TYPES if t != event_type]
    subscription = subscribe(path, events=others, enabled=False)
    response = send_test_event(live, subscription["id"], event_type)
    queued = checked(response, "sendWebhookTestEvent", 201)
    assert response.headers["location"] == f"/v1/webhooks/{subscription['id']}/deliveries"
    assert (
        queued["status"] == "pending"
        and queued["test"] is True
        and queued["event_type"] == event_type
    )
    assert queued["webhook_id"] == subscription["id"] and queued["attempts"] == []
    [request] = receiver.wait_for(path, 1)
    payload = Webhook(subscription["secret"]).verify(request.body, request.headers)
    assert_valid(payload, event_pointer(event_type))
    assert (
        payload["type"] == event_type
        and payload["test"] is True
        and payload["organization_id"] == ORG["acme"]
    )
    assert payload["id"] == queued["event_id"] == request.headers["webhook-id"]
    data = payload["data"]
    lead_id = data["lead"]["id"] if "lead" in data else data["activity"]["lead_id"]
    with live.client() as client:
        assert error_code(client.get(f"/leads/{lead_id}"), "getLead", 404) == "lead_not_found"
    [logged] = wait_for_deliveries(live, subscription["id"], settled())
    assert (
        logged["id"] == queued["id"] and logged["test"] is True and logged["status"] == "succeeded"
    )


# --- secrets ----------------------------------------------------------------------------------


def test_rotation_signs_with_both_secrets_during_the_overlap(
    live: LiveServer, receiver: Receiver, subscribe: Subscribe
) -> None:
    """Both secrets sign during an overlap; a second rotation or overlap 0 retires the older one."""
    path = new_path()
    subscription = subscribe(path)
    first = subscription["secret"]
    before = datetime.now(UTC)
    rotation = checked(
        rotate(live, subscription["id"], {"overlap_seconds": 3600}), "rotateWebhookSecret", 200
    )
    second = rotation["secret"]
    assert second != first
    expires = instant(rotation["previous_secret_expires_at"])
    assert (
        before + timedelta(seconds=3590) <= expires <= datetime.now(UTC) + timedelta(seconds=3610)
    )

    def next_request(count: int) -> Received:
        checked(send_test_event(live, subscription["id"]), "sendWebhookTestEvent", 201)
        return receiver.wait_for(path, count)[-1]

    request = next_request(1)
    assert len(signatures(request)) == 2
    for secret in (first, second):
        assert_valid(
            Webhook(secret).verify(request.body, request.headers), event_pointer("lead.created")
        )

    third = checked(
        rotate(live, subscription["id"], {"overlap_seconds": 3600}), "rotateWebhookSecret", 200
    )["secret"]
    request = next_request(2)
    assert len(signatures(request)) == 2
    for secret in (second, third):
        Webhook(secret).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(first).verify(request.body, request.headers)

    immediate = checked(
        rotate(live, subscription["id"], {"overlap_seconds": 0}), "rotateWebhookSecret", 200
    )
    assert immediate["previous_secret_expires_at"] is None
    request = next_request(3)
    assert len(signatures(request)) == 1
    Webhook(immediate["secret"]).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(third).verify(request.body, request.headers)

    default = checked(rotate(live, subscription["id"]), "rotateWebhookSecret", 200)
    assert abs(
        instant(default["previous_secret_expires_at"]) - datetime.now(UTC) - timedelta(hours=24)
    ) < timedelta(seconds=30)


def test_retry_during_an_overlap_carries_both_signatures(
    live: LiveServer, receiver: Receiver, subscribe: Subscribe
) -> None:
    """A retry of a delivery queued before a rotation is signed with both secrets."""
    path = new_path()
    receiver.answer(path, 503)
    subscription = subscribe(path)
    checked(send_test_event(live, subscription["id"]), "sendWebhookTestEvent", 201)
    [first] = receiver.wait_for(path, 1)
    new = checked(
        rotate(live, subscription["id"], {"overlap_seconds": 600}), "rotateWebhookSecret", 200
    )["secret"]
    second = receiver.wait_for(path, 2)[1]
    assert second.headers["webhook-id"] == first.headers["webhook-id"]
    assert len(signatures(second)) == 2
    for secret in (subscription["secret"], new):
        Webhook(secret).verify(second.body, second.headers)


def test_secret_appears_only_on_create_and_rotate(live: LiveServer, receiver: Receiver) -> None:
    """Only create and rotate show a secret; their replays repeat it without a second effect."""
    path = new_path()
    body = {"url": receiver.url(path), "events": ["lead.created"]}
    with live.client(**{"Idempotency-Key": str(uuid.uuid4())}) as client:
        created = checked(client.post("/webhooks", json=body), "createWebhookSubscription", 201)
        replay = client.post("/webhooks", json=body)
    webhook = f"/webhooks/{created['id']}"
    try:
        assert checked(replay, "createWebhookSubscription", 201) == created
        assert replay.headers["idempotent-replayed"] == "true"
        secret = created["secret"]
        with live.client() as client:
            reads = [
                (client.get(webhook), "getWebhookSubscription"),
                (client.get("/webhooks", params={"limit": 200}), "listWebhookSubscriptions"),
                (client.patch(webhook, json={"description": "CRM"}), "updateWebhookSubscription"),
                (client.get(f"{webhook}/deliveries"), "listWebhookDeliveries"),
            ]
        for response, operation_id in reads:
            checked(response, operation_id, 200)
            assert secret not in response.text and "whsec_" not in response.text
        listed = [s for s in reads[1][0].json()["items"] if s["url"] == body["url"]]
        assert len(listed) == 1, "the replay created a second subscription"

        key = {"Idempotency-Key": str(uuid.uuid4())}
        first = rotate(live, created["id"], {"overlap_seconds": 3600}, **key)
        rotation = checked(first, "rotateWebhookSecret", 200)
        replayed = rotate(live, created["id"], {"overlap_seconds": 3600}, **key)
        assert checked(replayed, "rotateWebhookSecret", 200) == rotation
        assert replayed.headers["idempotent-replayed"] == "true"
        checked(send_test_event(live, created["id"]), "sendWebhookTestEvent", 201)
        [request] = receiver.wait_for(path, 1)
        # A second rotation would have retired the first secret.
        for signing in (secret, rotation["secret"]):
            Webhook(signing).verify(request.body, request.headers)
    finally:
        with live.client() as client:
            checked(client.delete(webhook), "deleteWebhookSubscription", 204)


def test_signing_helpers_agree_with_standardwebhooks() -> None:
    """Our secrets, signatures and verification interoperate with the standardwebhooks library."""
    secret = new_secret()
    assert_valid(secret, "#/components/schemas/WebhookSecret")
    assert len(secret_key(secret)) == 32
    body = b'{"id":"x","type":"lead.created"}'
    stamp = int(time.time())
    msg_id = str(uuid.uuid4())
    header = sign(secret, msg_id, stamp, body)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(stamp), "webhook-signature": header}
    assert Webhook(secret).verify(body, headers) == {"id": "x", "type": "lead.created"}
    theirs = Webhook(secret).sign(msg_id, datetime.fromtimestamp(stamp, tz=UTC), body.decode())
    verify(secret, {**headers, "webhook-signature": f"v2,ignored {theirs}"}, body)
    with pytest.raises(SignatureError):
        verify(new_secret(), headers, body)
    with pytest.raises(SignatureError):
        verify(secret, {**headers, "webhook-timestamp": str(stamp - 600)}, body)
    with pytest.raises(SignatureError):
        verify(secret, headers, body + b" ")


# --- the URL policy ---------------------------------------------------------------------------

REFUSED_URLS = [
    "http://10.0.0.5/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://172.16.0.1/hook",
    "http://192.168.1.10:8080/hook",
    "http://100.64.0.1/hook",
    "http://0.0.0.0:8080/hook",
    "http://224.0.0.1/hook",
    "http://240.0.0.1/hook",
    "http://255.255.255.255/hook",
    "http://198.18.0.1/hook",
    "http://192.0.2.1/hook",
    "https://[fd00::1]/hook",
    "http://[fe80::1]/hook",
    "http://[ff02::1]/hook",
    "http://[::]/hook",
    "http://[::ffff:10.0.0.5]/hook",
    "http://[::ffff:169.254.169.254]/hook",
    "http://[64:ff9b::a9fe:a9fe]/hook",
    "http://167772165/hook",
    "http://10.5/hook",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_private_targets_are_refused(live: LiveServer, url: str) -> None:
    """A private, link-local, reserved, multicast or unspecified target is refused with a 400."""
    with live.client() as client:
        response = client.post("/webhooks", json={"url": url, "events": ["lead.created"]})
        assert error_code(response, "createWebhookSubscription", 400) == "webhook_url_not_allowed"
        listed = checked(
            client.get("/webhooks", params={"limit": 200}), "listWebhookSubscriptions", 200
        )["items"]
    assert url not in [s["url"] for s in listed]


def test_update_to_a_private_target_is_refused(
    live: LiveServer, receiver: Receiver, subscribe: Subscribe
) -> None:
    """Changing the URL to a refused address is a 400 and leaves the subscription as it was."""
    subscription = subscribe(new_path())
    with live.client() as client:
        response = client.patch(
            f"/webhooks/{subscription['id']}",
            json={"url": "http://169.254.169.254/hook", "enabled": False},
        )
        assert error_code(response, "updateWebhookSubscription", 400) == "webhook_url_not_allowed"
        current = checked(
            client.get(f"/webhooks/{subscription['id']}"), "getWebhookSubscription", 200
        )
    assert current["url"] == subscription["url"] and current["enabled"] is True


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "localhost", "[::1]"])
def test_loopback_targets_are_accepted(live: LiveServer, subscribe: Subscribe, host: str) -> None:
    """The reference server accepts loopback receivers."""
    subscription = subscribe(url=f"http://{host}:9/hook", enabled=False)
    assert subscription["url"] == f"http://{host}:9/hook"


def test_host_resolving_to_a_refused_address_at_delivery_is_not_contacted(
    live: LiveServer, receiver: Receiver, subscribe: Subscribe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host name later resolving to a private address, or to nothing, is never contacted."""
    answers: dict[str, str | None] = {"rebind.invalid": "127.0.0.1"}
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in answers:
            return real_getaddrinfo(host, port, *args, **kwargs)
        if answers[host] is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (answers[host], int(port)))
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    path = new_path()
    subscription = subscribe(url=receiver.url(path, host="rebind.invalid"))
    checked(send_test_event(live, subscription["id"]), "sendWebhookTestEvent", 201)
    [request] = receiver.wait_for(path, 1)
    assert request.headers["host"] == f"rebind.invalid:{receiver.port}"
    wait_for_deliveries(live, subscription["id"], settled(1))

    answers["rebind.invalid"] = "10.0.0.5"
    checked(send_test_event(live, subscription["id"]), "sendWebhookTestEvent", 201)
    rebound = wait_for_deliveries(live, subscription["id"], settled(2))[0]
    assert rebound["status"] == "failed"
    for attempt in rebound["attempts"]:
        assert attempt["response_status"] is None
        assert (
            attempt["error"].startswith("Not sent")
            and "10.0.0.5, a private address" in attempt["error"]
        )

    answers["rebind.invalid"] = None
    checked(send_test_event(live, subscription["id"]), "sendWebhookTestEvent", 201)
    unresolved = wait_for_deliveries(live, subscription["id"], settled(3))[0]
    assert unresolved["status"] == "failed" and all(
        "did not resolve" in a["error"] for a in unresolved["attempts"]
    )
    assert len(receiver.at(path)) == 1


def test_slow_url_lookup_holds_no_write_lock(live: LiveServer, pipeline_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A webhook URL whose DNS lookup hangs does not stall other writes: the lookup runs before the transaction."""
    looking_up, release = threading.Event(), threading.Event()
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "slow-dns.invalid":
            return real_getaddrinfo(host, port, *args, **kwargs)
        looking_up.set()
        release.wait(30)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    subscribed: list[httpx.Response] = []
    with live.client() as first, live.client() as second:
        subscribing = threading.Thread(target=lambda: subscribed.append(first.post(
            "/webhooks", json={"url": "https://slow-dns.invalid/hook", "events": ["lead.created"], "enabled": False})))
        subscribing.start()
        try:
            assert looking_up.wait(10), "the subscription's URL was never looked up"
            # While the lookup hangs, a write of the same organization must go through (not wait on a lock).
            lead = second.post("/leads", json={"contact_name": "Ana Ribeiro", "pipeline_id": pipeline_id}, timeout=5)
            assert lead.status_code == 201, lead.text
            assert subscribing.is_alive(), "the lead waited for the URL lookup to give up: a write lock was held across DNS"
        finally:
            release.set()
            subscribing.join(30)
    assert subscribed[0].status_code == 201, subscribed[0].text  # a name that does not resolve (now) is accepted


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("10.0.0.5", "private"),
        ("172.31.255.255", "private"),
        ("192.168.0.1", "private"),
        ("100.64.0.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("192.0.2.1", "reserved"),
        ("2001:db8::1", "reserved"),
        ("::ffff:10.0.0.5", "private"),
        ("2002:a9fe:a9fe::1", "link-local"),
        ("64:ff9b::a00:5", "private"),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("64:ff9b::808:808", None),
        ("192.0.0.9", None),
    ],
)
def test_address_classification(address: str, kind: str | None) -> None:
    """Each address falls in its documented category, embedded IPv4 counting as itself."""
    assert classify(ipaddress.ip_address(address)) == kind


def test_allow_private_lifts_only_the_private_ranges() -> None:
    """allow_private accepts the private ranges only, never link-local or the rest."""
    policy = UrlPolicy(allow_loopback=False, allow_private=True)
    for address in ("10.0.0.5", "192.168.1.1", "100.64.0.1", "fd00::1"):
        assert policy.refusal(ipaddress.ip_address(address)) is None
    for address in ("169.254.169.254", "127.0.0.1", "224.0.0.1", "0.0.0.0", "240.0.0.1"):
        assert policy.refusal(ipaddress.ip_address(address)) is not None


def test_allow_private_webhooks_setting_reaches_the_api() -> None:
    """A server with allow_private_webhooks accepts a private target but refuses link-local."""
    server = start_server(replace(FAST, allow_private_webhooks=True))
    try:
        with server.client() as client:
            private = client.post(
                "/webhooks",
                json={"url": "http://10.0.0.5/hook", "events": ["lead.created"], "enabled": False},
            )
            checked(private, "createWebhookSubscription", 201)
            metadata = client.post(
                "/webhooks",
                json={
                    "url": "http://169.254.169.254/",
                    "events": ["lead.created"],
                    "enabled": False,
                },
            )
            assert (
                error_code(metadata, "createWebhookSubscription", 400) == "webhook_url_not_allowed"
            )
            deleted = client.delete(f"/webhooks/{private.json()['id']}")
            checked(deleted, "deleteWebhookSubscription", 204)
    finally:
        server.stop()


# --- the resource: cross-organization, update, delete, lists, roles ----------------------------


def test_another_organizations_subscription_is_a_404(
    live: LiveServer, receiver: Receiver, subscribe: Subscribe
) -> None:
    """Another organization's subscription is a 404 everywhere; events stay in their own."""
    acme_path, globex_path = new_path(), new_path()
    acme = subscribe(acme_path)
    globex = subscribe(globex_path, org="globex")
    calls = [
        ("GET", f"/webhooks/{acme['id']}", None, "getWebhookSubscription"),
        ("PATCH", f"/webhooks/{acme['id']}", {"enabled": False}, "updateWebhookSubscription"),
        (
            "POST",
            f"/webhooks/{acme['id']}/rotate-secret",
            {"overlap_seconds": 0},
            "rotateWebhookSecret",
        ),
        ("POST", f"/webhooks/{acme['id']}/test", {"type": "lead.created"}, "sendWebhookTestEvent"),
        ("GET", f"/webhooks/{acme['id']}/deliveries", None, "listWebhookDeliveries"),
        ("DELETE", f"/webhooks/{acme['id']}", None, "deleteWebhookSubscription"),
        ("GET", f"/webhooks/{uuid.uuid4()}", None, "getWebhookSubscription"),
    ]
    with live.client("bruno", "globex") as client:
        for method, url, body, operation_id in calls:
            assert (
                error_code(client.request(method, url, json=body), operation_id, 404)
                == "webhook_not_found"
            )
        listed = checked(client.get("/webhooks"), "listWebhookSubscriptions", 200)["items"]
    assert [s["id"] for s in listed] == [globex["id"]]
    create_lead(live, "globex")
    receiver.wait_for(globex_path, 1)
    wait_for_deliveries(live, globex["id"], settled(), org="globex")
    time.sleep(0.2)
    assert receiver.at(acme_path) == [] and deliveries(live, acme["id"]) == []
    with live.client() as client:
        unchanged = checked(client.get(f"/webhooks/{acme['id']}"), "getWebhookSubscription", 200)
    assert unchanged == {k: v for k, v in acme.items() if k != "secret"}


def test_update_changes_only_the_given_fields(live: LiveServer, subscribe: Subscribe) -> None:
    """A PATCH replaces events, clears the description with null and keeps everything else."""
    subscription = subscribe(new_path(), description="CRM sync", events=["lead.created"])
    with live.client("arthur") as client:
        updated = checked(
            client.patch(
                f"/webhooks/{subscription['id']}",
                json={"events": ["reply.detected", "activity.created"], "description": None},
            ),
            "updateWebhookSubscription",
            200,
        )
    assert (
        updated["events"] == ["reply.detected", "activity.created"]
        and updated["description"] is None
    )
    assert updated["url"] == subscription["url"] and updated["enabled"] is True
    assert (
        updated["created_at"] == subscription["created_at"]
        and updated["updated_at"] > subscription["updated_at"]
    )
    with live.client() as client:
        empty = client.patch(f"/webhooks/{subscription['id']}", json={})
        assert error_code(empty, "updateWebhookSubscription", 400) == "validation_failed"
        assert (
            checked(client.get(f"/webhooks/{subscription['id']}"), "getWebhookSubscription", 200)
            == updated
        )


def test_delete_drops_the_subscription_and_its_pending_deliveries(
    live: LiveServer, receiver: Receiver, subscribe: Subscribe
) -> None:
    """After a delete the subscription and its log are 404 and no further attempt is made."""
    path = new_path()
    receiver.answer(path, then=503)
    subscription = subscribe(path)
    checked(send_test_event(live, subscription["id"]), "sendWebhookTestEvent", 201)
    receiver.wait_for(path, 1)
    with live.client() as client:
        checked(client.delete(f"/webhooks/{subscription['id']}"), "deleteWebhookSubscription", 204)
        sent = len(receiver.at(path))
        assert (
            error_code(client.get(f"/webhooks/{subscription['id']}"), "getWebhookSubscription", 404)
            == "webhook_not_found"
        )
        assert (
            error_code(
                client.get(f"/webhooks/{subscription['id']}/deliveries"),
                "listWebhookDeliveries",
                404,
            )
            == "webhook_not_found"
        )
        assert (
            error_code(
                client.delete(f"/webhooks/{subscription['id']}"), "deleteWebhookSubscription", 404
            )
            == "webhook_not_found"
        )
    with live.services.db.transaction() as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM deliveries WHERE webhook_id = ?", (subscription["id"],)
            ).fetchone()[0]
            == 0
        )
    time.sleep(sum(live.services.settings.webhook_retry_schedule) + 0.3)
    assert len(receiver.at(path)) <= sent + 1  # at most the attempt already in flight


def test_subscriptions_page_newest_first(live: LiveServer, subscribe: Subscribe) -> None:
    """Subscriptions page newest first; a forged or foreign cursor is invalid_cursor."""
    made = [subscribe(new_path(), org="globex", enabled=False) for _ in range(3)]
    with live.client("bruno", "globex") as client:
        first = checked(
            client.get("/webhooks", params={"limit": 2}), "listWebhookSubscriptions", 200
        )
        assert first["next_cursor"]
        second = checked(
            client.get("/webhooks", params={"limit": 2, "cursor": first["next_cursor"]}),
            "listWebhookSubscriptions",
            200,
        )
        assert second["next_cursor"] is None
        assert [s["id"] for s in first["items"] + second["items"]] == [
            s["id"] for s in reversed(made)
        ]
        forged = client.get("/webhooks", params={"cursor": first["next_cursor"][:-2] + "xx"})
        assert error_code(forged, "listWebhookSubscriptions", 400) == "invalid_cursor"
        foreign = client.get(
            f"/webhooks/{made[0]['id']}/deliveries", params={"cursor": first["next_cursor"]}
        )
        assert error_code(foreign, "listWebhookDeliveries", 400) == "invalid_cursor"


def test_delivery_log_filters_and_pages(
    live: LiveServer, receiver: Receiver, subscribe: Subscribe
) -> None:
    """The log filters by type, status and creation time (any offset) and pages newest first."""
    subscription = subscribe(new_path(), events=["lead.created"])
    queued = [
        checked(send_test_event(live, subscription["id"], t), "sendWebhookTestEvent", 201)
        for t in ("lead.created", "reply.detected")
    ]
    log = wait_for_deliveries(live, subscription["id"], settled(2))
    assert [d["id"] for d in log] == [q["id"] for q in reversed(queued)]
    assert [d["id"] for d in deliveries(live, subscription["id"], event_type="reply.detected")] == [
        queued[1]["id"]
    ]
    assert len(deliveries(live, subscription["id"], status="succeeded")) == 2
    assert deliveries(live, subscription["id"], status="failed", event_type="lead.created") == []
    brasilia = timezone(timedelta(hours=-3))
    earlier = (
        (instant(queued[0]["created_at"]) - timedelta(seconds=1)).astimezone(brasilia).isoformat()
    )
    later = (
        (instant(queued[1]["created_at"]) + timedelta(seconds=1)).astimezone(brasilia).isoformat()
    )
    assert (
        len(deliveries(live, subscription["id"], created_after=earlier, created_before=later)) == 2
    )
    assert deliveries(live, subscription["id"], created_after=later) == []
    assert [
        d["id"]
        for d in deliveries(live, subscription["id"], created_before=queued[1]["created_at"])
    ] == [queued[0]["id"]]
    with live.client() as client:
        page = checked(
            client.get(f"/webhooks/{subscription['id']}/deliveries", params={"limit": 1}),
            "listWebhookDeliveries",
            200,
        )
        rest = checked(
            client.get(
                f"/webhooks/{subscription['id']}/deliveries",
                params={"limit": 1, "cursor": page["next_cursor"]},
            ),
            "listWebhookDeliveries",
            200,
        )
        bad = client.get(
            f"/webhooks/{subscription['id']}/deliveries", params={"status": "retrying"}
        )
        assert error_code(bad, "listWebhookDeliveries", 400) == "validation_failed"
    assert [d["id"] for d in page["items"] + rest["items"]] == [
        q["id"] for q in reversed(queued)
    ] and rest["next_cursor"] is None


def test_roles_gate_changes_but_not_reads(
    live: LiveServer, receiver: Receiver, subscribe: Subscribe
) -> None:
    """Members and viewers may read subscriptions and the log but not change them; admins may."""
    subscription = subscribe(new_path(), enabled=False)
    webhook = f"/webhooks/{subscription['id']}"
    changes = [
        (
            "POST",
            "/webhooks",
            {"url": receiver.url(new_path()), "events": ["lead.created"]},
            "createWebhookSubscription",
        ),
        ("PATCH", webhook, {"enabled": True}, "updateWebhookSubscription"),
        ("POST", f"{webhook}/rotate-secret", {"overlap_seconds": 0}, "rotateWebhookSecret"),
        ("POST", f"{webhook}/test", {"type": "lead.created"}, "sendWebhookTestEvent"),
        ("DELETE", webhook, None, "deleteWebhookSubscription"),
    ]
    for user in ("mia", "victor"):
        with live.client(user) as client:
            for method, url, body, operation_id in changes:
                assert (
                    error_code(client.request(method, url, json=body), operation_id, 403)
                    == "insufficient_role"
                )
            checked(client.get("/webhooks"), "listWebhookSubscriptions", 200)
            checked(client.get(webhook), "getWebhookSubscription", 200)
            checked(client.get(f"{webhook}/deliveries"), "listWebhookDeliveries", 200)
    with live.client("arthur") as client:
        made = checked(
            client.post(
                "/webhooks",
                json={
                    "url": receiver.url(new_path()),
                    "events": ["lead.created"],
                    "enabled": False,
                },
            ),
            "createWebhookSubscription",
            201,
        )
        checked(client.delete(f"/webhooks/{made['id']}"), "deleteWebhookSubscription", 204)
