"""Webhooks: secrets, signed deliveries to the kit's receiver, retries, the delivery log, rotation, events.

Every subscription points at its own path of the kit's receiver (the
`receiver` fixture) and is deleted when its test ends. Event payload schemas
and the delivery headers are read from the spec's `webhooks:` section; the
event types from the request schema of `sendWebhookTestEvent`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from apollospace_conformance.checks import violation
from apollospace_conformance.evidence import blocked
from apollospace_conformance.http import Exchange, KitClient
from apollospace_conformance.receiver import (
    ReceivedRequest,
    SignatureProblem,
    WebhookReceiver,
    matching_entries,
    signature_entries,
    verify,
)
from apollospace_conformance.resources import create_lead, first_pipeline_id, walk
from apollospace_conformance.session import KitSession
from apollospace_spec.model import resolve
from apollospace_spec.validation import describe

from .conftest import body_of, idempotency_key

DELIVERY_TIMEOUT_SECONDS = 20.0  # first attempts are made as soon as the event is queued
RETRY_TIMEOUT_SECONDS = 30.0  # the documented schedule retries 5 s after a failed first attempt
LOG_TIMEOUT_SECONDS = 10.0
QUIET_SECONDS = 2.0  # how long a subscription that must get nothing is watched after the others got theirs
QUIET_SMOKE_SECONDS = 0.5  # the same watch in a smoke run (quick), which certifies nothing
REFUSED_TARGETS = ("http://10.0.0.5/hook", "http://169.254.169.254/latest", "http://192.168.1.20/hook", "http://[fd00::5]/hook")
REACH_HINT = "is the kit's receiver reachable from the server? see --webhook-public-url"


# --- what the spec says about events --------------------------------------------------------------


def _operation(kit: KitSession, operation_id: str) -> dict[str, Any]:
    return next(op.definition for op in kit.spec.operations if op.operation_id == operation_id)


def event_types(kit: KitSession) -> list[str]:
    """The EventType enum, read from sendWebhookTestEvent's request schema."""
    document = kit.spec.document
    body = resolve(document, _operation(kit, "sendWebhookTestEvent")["requestBody"])
    schema = resolve(document, body["content"]["application/json"]["schema"])
    return list(resolve(document, schema["properties"]["type"])["enum"])


@dataclass
class EventContract:
    """One event of the spec's `webhooks:` section: its payload validator and its delivery headers."""

    event_type: str
    validator: Draft202012Validator
    headers: dict[str, Draft202012Validator]  # lower-case header name -> validator of its value


def event_contracts(kit: KitSession) -> dict[str, EventContract]:
    """Every event of the spec's `webhooks:` section, keyed by the `type` its payload schema fixes."""
    document = kit.spec.document
    contracts = {}
    for name, item in (document.get("webhooks") or {}).items():
        operation = item["post"]
        schema = resolve(document, operation["requestBody"])["content"]["application/json"]["schema"]
        type_schema = resolve(document, resolve(document, schema).get("properties", {}).get("type", {}))
        event_type = type_schema.get("const", name)
        headers = {}
        for raw in operation.get("parameters", []):
            parameter = resolve(document, raw)
            if parameter.get("in") == "header" and parameter.get("required"):
                headers[parameter["name"].lower()] = kit.spec.validator.for_schema(parameter["schema"])
        contracts[event_type] = EventContract(event_type, kit.spec.validator.for_schema(schema), headers)
    return contracts


def payload_problem(contract: EventContract, payload: Any) -> str | None:
    error = next(iter(sorted(contract.validator.iter_errors(payload), key=lambda e: list(e.absolute_path))), None)
    return describe(error) if error is not None else None


def header_problem(contract: EventContract, request: ReceivedRequest) -> str | None:
    for name, validator in contract.headers.items():
        raw = request.headers.get(name)
        if raw is None:
            return f"no {name} header"
        value: Any = int(raw) if raw.isdigit() and validator.schema.get("type") == "integer" else raw
        error = next(validator.iter_errors(value), None)
        if error is not None:
            return f"{name}: {raw!r}: {error.message[:200]}"
    return None


# --- subscriptions ------------------------------------------------------------------------------------


@dataclass
class Subscription:
    id: str
    secret: str
    path: str
    url: str
    creation: Exchange
    api: KitClient

    def log_summary(self) -> str:
        """The subscription's newest deliveries as its log shows them, and what that suggests, for a violation's Received."""
        log = self.api.get(f"/webhooks/{self.id}/deliveries", params={"limit": 5})
        items = body_of(log).get("items")
        if log.status != 200 or not isinstance(items, list):
            return f"its delivery log: {log.describe()[:200]}"
        shown = [f"{d.get('event_type')} {d.get('event_id')} {d.get('status')} attempts={[(a.get('response_status'), a.get('error')) for a in d.get('attempts') or []]}"
                 f" next={d.get('next_attempt_at')}" for d in items]
        if any(d.get("status") == "pending" and not d.get("attempts") for d in items):
            hint = "the server has queued the delivery but made no attempt yet (first attempts are due as soon as the event is queued)"
        elif any(a.get("error") for d in items for a in d.get("attempts") or []):
            hint = REACH_HINT
        else:
            hint = "no matching delivery in the log"
        return f"its delivery log: {shown} ({hint})"


@dataclass
class Subscriptions:
    """The subscriptions a test creates, each on its own receiver path; all deleted when the test ends."""

    kit: KitSession
    api: KitClient
    receiver: WebhookReceiver
    requirement: str
    made: list[Subscription] = field(default_factory=list)

    def create(self, label: str, events: list[str], *, enabled: bool = True) -> Subscription:
        path = self.receiver.new_path(label)
        url = self.receiver.url_for(path)
        created = self.api.post("/webhooks", {"url": url, "events": events, "enabled": enabled, "description": f"conformance kit, {self.kit.tag}"},
                                headers=idempotency_key())
        body = body_of(created)
        if created.status == 400 and (body.get("error") or {}).get("code") == "webhook_url_not_allowed":
            pytest.skip(f"the server refuses the receiver's URL {url} (loopback or private): pass --webhook-public-url with an address it can reach")
        if created.status != 201 or not body.get("id") or not body.get("secret"):
            raise violation(self.requirement, "201 with the subscription and its secret", created.describe(), created)
        subscription = Subscription(str(body["id"]), str(body["secret"]), path, url, created, self.api)
        self.made.append(subscription)
        return subscription

    def delete_all(self) -> None:
        for subscription in self.made:
            try:
                self.api.delete(f"/webhooks/{subscription.id}")
            except Exception:  # best effort: the test's own outcome matters more
                pass


@contextmanager
def subscriptions(kit: KitSession, api: KitClient, receiver: WebhookReceiver, requirement: str) -> Iterator[Subscriptions]:
    made = Subscriptions(kit, api, receiver, requirement)
    try:
        yield made
    finally:
        made.delete_all()


def _payload(request: ReceivedRequest) -> dict[str, Any]:
    payload = request.json()
    return payload if isinstance(payload, dict) else {}


def event_match(event_type: str, where: Callable[[dict[str, Any]], bool] = lambda data: True) -> Callable[[ReceivedRequest], bool]:
    def matches(request: ReceivedRequest) -> bool:
        payload = _payload(request)
        return payload.get("type") == event_type and isinstance(payload.get("data"), dict) and where(payload["data"])

    return matches


def wait_delivery(receiver: WebhookReceiver, subscription: Subscription, match: Callable[[ReceivedRequest], bool], requirement: str,
                  what: str, timeout: float = DELIVERY_TIMEOUT_SECONDS, cause: Exchange | None = None) -> ReceivedRequest:
    """The first request to the subscription's path that `match`es, within `timeout` seconds."""
    got = receiver.wait_for(subscription.path, lambda requests: any(match(r) for r in requests), timeout)
    found = next((request for request in got if match(request)), None)
    if found is None:
        seen = [f"{_payload(r).get('type')} {r.headers.get('webhook-id')}" for r in got]
        raise violation(requirement, f"{what} delivered to {subscription.url} within {timeout:.0f} s",
                        f"{len(got)} request(s) received there: {seen[:10]}; {subscription.log_summary()}", cause)
    return found


def check_signed(contract: EventContract, request: ReceivedRequest, secret: str, requirement: str, cause: Exchange | None = None) -> None:
    """The delivery carries the Standard Webhooks headers as the spec describes them, and verifies with `secret`."""
    problem = header_problem(contract, request)
    if problem is not None:
        raise violation(requirement, "webhook-id, webhook-timestamp and webhook-signature as the spec describes them", f"{problem}; {request.describe()}", cause)
    if request.headers["webhook-id"] != _payload(request).get("id"):
        raise violation(requirement, "webhook-id equal to the payload's id", request.describe(), cause)
    try:
        verify(secret, request.headers, request.body)
    except SignatureProblem as exc:
        raise violation(requirement, "a v1 signature: base64 HMAC-SHA256 of id.timestamp.body with the subscription's secret", f"{exc}; {request.describe()}", cause) from None


def check_payload(contract: EventContract, request: ReceivedRequest, requirement: str, cause: Exchange | None = None) -> dict[str, Any]:
    payload = request.json()
    problem = payload_problem(contract, payload)
    if problem is not None:
        raise violation(requirement, f"a payload valid against the {contract.event_type} schema of the spec's webhooks section", f"{problem}; {request.describe()}", cause)
    return dict(payload)


# --- secrets ------------------------------------------------------------------------------------------


@pytest.mark.requirement("/req/webhooks/secret-once")
def test_secret_shown_only_on_create_and_rotate(kit: KitSession, api: KitClient, receiver: WebhookReceiver) -> None:
    """Requirement: /req/webhooks/secret-once (the signing secret is returned only on creation and on rotation).
    Test purpose: no response but createWebhookSubscription and rotateWebhookSecret carries a secret.
    Test method: 1. create a subscription: expect its secret 2. get it, list it, update it: no `secret` field and the
    secret nowhere in the raw bodies 3. rotate: expect a new secret 4. get and list again: neither secret anywhere.
    """
    requirement = "/req/webhooks/secret-once"
    with subscriptions(kit, api, receiver, requirement) as subs:
        sub = subs.create("secret-once", ["lead.created"])
        secrets = [sub.secret]

        def hidden(exchange: Exchange, what: str) -> None:
            body = body_of(exchange)
            items = body.get("items") if isinstance(body.get("items"), list) else [body]
            if exchange.status != 200:
                raise violation(requirement, f"200 for {what}", exchange.describe(), exchange)
            leaked = [s for s in secrets if s.encode() in exchange.raw_body or s.removeprefix("whsec_").encode() in exchange.raw_body]
            if any("secret" in item for item in items if isinstance(item, dict)) or leaked:
                raise violation(requirement, f"no secret in the response to {what}", exchange.describe()[:400], exchange)

        hidden(api.get(f"/webhooks/{sub.id}"), "getWebhookSubscription")
        listed, pages = walk(api, "/webhooks", limit=50, max_pages=20)
        for page in pages:
            hidden(page, "listWebhookSubscriptions")
        if sub.id not in {item.get("id") for item in listed}:
            raise violation(requirement, f"subscription {sub.id} listed", repr([item.get("id") for item in listed]), pages[-1])
        hidden(api.patch(f"/webhooks/{sub.id}", {"description": f"conformance kit, {kit.tag}, renamed"}), "updateWebhookSubscription")
        rotated = api.post(f"/webhooks/{sub.id}/rotate-secret", {"overlap_seconds": 0}, headers=idempotency_key())
        new_secret = body_of(rotated).get("secret")
        if rotated.status != 200 or not isinstance(new_secret, str) or new_secret in secrets:
            raise violation(requirement, "200 with a new secret from rotateWebhookSecret", rotated.describe(), rotated)
        secrets.append(new_secret)
        hidden(api.get(f"/webhooks/{sub.id}"), "getWebhookSubscription after a rotation")
        for page in walk(api, "/webhooks", limit=50, max_pages=20)[1]:
            hidden(page, "listWebhookSubscriptions after a rotation")


# --- signatures and payloads -----------------------------------------------------------------------------


@pytest.mark.requirement("/req/webhooks/signature")
def test_deliveries_are_signed(kit: KitSession, api: KitClient, receiver: WebhookReceiver) -> None:
    """Requirement: /req/webhooks/signature (webhook-id, webhook-timestamp, webhook-signature: v1, HMAC-SHA256 of id.timestamp.body).
    Test purpose: real and test deliveries carry the Standard Webhooks headers and a signature made with the subscription's secret.
    Test method: 1. subscribe the receiver to lead.created 2. create a lead, and send a test event 3. for each delivery
    check the three headers against their schemas in the spec, webhook-id equal to the payload id, the timestamp within
    5 minutes of the receiver's clock, and one v1 entry equal to base64(HMAC-SHA256(secret, id.timestamp.raw body)),
    computed by the kit itself.
    """
    requirement = "/req/webhooks/signature"
    contract = event_contracts(kit)["lead.created"]
    with subscriptions(kit, api, receiver, requirement) as subs:
        sub = subs.create("signature", ["lead.created"])
        lead = create_lead(kit, api)
        real = wait_delivery(receiver, sub, event_match("lead.created", lambda data: (data.get("lead") or {}).get("id") == lead["id"]),
                             requirement, f"lead.created for lead {lead['id']}")
        check_signed(contract, real, sub.secret, requirement)
        sent = api.post(f"/webhooks/{sub.id}/test", {"type": "lead.created"}, headers=idempotency_key())
        event_id = body_of(sent).get("event_id")
        if sent.status != 201 or not event_id:
            raise violation(requirement, "201 with the test delivery", sent.describe(), sent)
        test = wait_delivery(receiver, sub, lambda r: r.headers.get("webhook-id") == event_id, requirement, f"test event {event_id}", cause=sent)
        check_signed(contract, test, sub.secret, requirement, sent)


@pytest.mark.requirement("/req/webhooks/payload-schema")
def test_payloads_match_their_event_schema(kit: KitSession, api: KitClient, receiver: WebhookReceiver) -> None:
    """Requirement: /req/webhooks/payload-schema (every payload is valid against its event's schema in the spec's webhooks section).
    Test purpose: the payloads of real events validate against the schemas the spec publishes for them.
    Test method: 1. subscribe the receiver to lead.created and activity.created 2. create a lead and add a note to it
    3. validate both payloads against the schema of their event, taken from the spec's webhooks section 4. check they
    are real events (test false) of the caller's organization about the lead and the note.
    """
    requirement = "/req/webhooks/payload-schema"
    contracts = event_contracts(kit)
    with subscriptions(kit, api, receiver, requirement) as subs:
        sub = subs.create("payload-schema", ["lead.created", "activity.created"])
        lead = create_lead(kit, api)
        added = api.post(f"/leads/{lead['id']}/activities", {"body": f"Payload schema check ({kit.tag})."})
        if added.status != 201:
            raise violation(requirement, "201 adding a note", added.describe(), added)
        note = body_of(added)
        expected = {
            "lead.created": (lambda data: (data.get("lead") or {}).get("id") == lead["id"], f"lead.created for lead {lead['id']}"),
            "activity.created": (lambda data: (data.get("activity") or {}).get("id") == note.get("id"), f"activity.created for note {note.get('id')}"),
        }
        for event_type, (where, what) in expected.items():
            request = wait_delivery(receiver, sub, event_match(event_type, where), requirement, what)
            payload = check_payload(contracts[event_type], request, requirement)
            if payload.get("test") is not False or payload.get("organization_id") != kit.settings.org_a:
                raise violation(requirement, f"a real event (test false) of organization {kit.settings.org_a}", request.describe(), None)


# --- retries and the delivery log ---------------------------------------------------------------------------


@dataclass
class RetriedDelivery:
    """A test event whose first attempt the receiver answered 500, followed until it succeeded."""

    subscription: Subscription
    sent: Exchange
    requests: list[ReceivedRequest]
    pending_log: Exchange | None  # the log once the failed attempt was recorded
    final_log: Exchange | None  # the log once the delivery settled (or the last read)


def _delivery(log: Exchange | None, delivery_id: str) -> dict[str, Any]:
    return next((item for item in body_of(log).get("items") or [] if item.get("id") == delivery_id), {})


def _poll_log(api: KitClient, sub: Subscription, delivery_id: str, settled: Callable[[dict[str, Any]], bool], timeout: float) -> Exchange | None:
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = api.get(f"/webhooks/{sub.id}/deliveries", params={"limit": 10})
        if last.status == 200 and settled(_delivery(last, delivery_id)):
            return last
        if time.monotonic() >= deadline:
            return last
        time.sleep(0.25)


@pytest.fixture(scope="module")
def retried_delivery(kit: KitSession, api: KitClient, receiver: WebhookReceiver) -> RetriedDelivery:
    """One delivery whose first attempt fails with 500 and whose retry is let through (waits about 5 s, at most 30 s).

    Its subscription is deleted before the tests judge what was gathered, so it receives no later event.
    """
    requirement = "/req/webhooks/retry-same-id"
    with subscriptions(kit, api, receiver, requirement) as subs:
        sub = subs.create("retry", ["lead.created"])
        receiver.fail_next(sub.path, 1)
        sent = api.post(f"/webhooks/{sub.id}/test", {"type": "lead.created"}, headers=idempotency_key())
        delivery_id = body_of(sent).get("id")
        pending_log = final_log = None
        if sent.status == 201 and delivery_id:
            receiver.wait_for(sub.path, lambda got: len(got) >= 1, DELIVERY_TIMEOUT_SECONDS)
            pending_log = _poll_log(api, sub, delivery_id, lambda d: len(d.get("attempts") or []) >= 1, LOG_TIMEOUT_SECONDS)
            receiver.wait_for(sub.path, lambda got: len(got) >= 2, RETRY_TIMEOUT_SECONDS)
            final_log = _poll_log(api, sub, delivery_id, lambda d: d.get("status") in ("succeeded", "failed"), LOG_TIMEOUT_SECONDS)
        return RetriedDelivery(sub, sent, receiver.requests(sub.path), pending_log, final_log)


@pytest.mark.waits("the documented schedule retries a failed delivery 5 s later")
@pytest.mark.requirement("/req/webhooks/retry-same-id")
def test_failed_delivery_is_retried_with_the_same_id(retried_delivery: RetriedDelivery) -> None:
    """Requirement: /req/webhooks/retry-same-id (a delivery not acknowledged with 2xx is retried, every attempt with the same webhook-id).
    Test purpose: after a 500, the server tries again later with the same webhook-id and the same body.
    Test method: 1. subscribe the receiver and tell it to answer the next request 500 2. send a test event 3. wait
    (about 5 s by the documented schedule, at most 30 s) for a second attempt 4. check both attempts carry the same
    webhook-id (equal to the delivery's event_id) and the same body, the second one later than the first.
    """
    requirement = "/req/webhooks/retry-same-id"
    observed = retried_delivery
    sent = observed.sent
    if sent.status != 201 or not body_of(sent).get("event_id"):
        raise violation(requirement, "201 with the test delivery", sent.describe(), sent)
    if not observed.requests:
        raise violation(requirement, f"a first attempt within {DELIVERY_TIMEOUT_SECONDS:.0f} s", f"nothing received; the delivery log then: {_delivery(observed.final_log or observed.pending_log, body_of(sent)['id']) or 'unreadable'}", sent)
    first = observed.requests[0]
    if len(observed.requests) < 2:
        raise violation(requirement, f"a retry within {RETRY_TIMEOUT_SECONDS:.0f} s of a first attempt answered {first.answered}",
                        f"only the first attempt: {first.describe()}; the log then: {_delivery(observed.final_log, body_of(sent)['id'])}", sent)
    second = observed.requests[1]
    event_id = body_of(sent)["event_id"]
    for number, request in enumerate((first, second), start=1):
        if request.headers.get("webhook-id") != event_id:
            raise violation(requirement, f"webhook-id {event_id} (the delivery's event_id) on attempt {number}", request.describe(), sent)
    if second.body != first.body:
        raise violation(requirement, "the same body on every attempt", f"first {first.body[:200]!r}, then {second.body[:200]!r}", sent)
    if second.received_at <= first.received_at:
        raise violation(requirement, "the retry after the failed attempt", f"{first.received_at} then {second.received_at}", sent)


@pytest.mark.waits("the documented schedule retries a failed delivery 5 s later")
@pytest.mark.requirement("/req/webhooks/delivery-log")
def test_delivery_log_lists_every_attempt(retried_delivery: RetriedDelivery) -> None:
    """Requirement: /req/webhooks/delivery-log (every attempt is listed in the subscription's delivery log with its outcome).
    Test purpose: listWebhookDeliveries shows the delivery, each attempt with its answer, and its status over time.
    Test method: 1. use the delivery whose first attempt the receiver answered 500 and whose retry it accepted 2. while
    the retry was pending the log showed status pending, one attempt answered 500 and a next_attempt_at 3. once
    settled: status succeeded, next_attempt_at null, attempts numbered 1 and 2 with 500 and the 2xx the receiver sent,
    as many attempts as the receiver got, event_id equal to the webhook-id.
    """
    requirement = "/req/webhooks/delivery-log"
    observed = retried_delivery
    delivery_id = body_of(observed.sent).get("id")
    if observed.sent.status != 201 or not delivery_id:
        pytest.skip(f"no test delivery to follow: {observed.sent.describe()[:200]}")
    if len(observed.requests) < 2:
        blocked("/req/webhooks/retry-same-id", "the delivery was not retried, so its log cannot show two attempts")
    pending = _delivery(observed.pending_log, delivery_id)
    attempts = pending.get("attempts") or []
    if not attempts or attempts[0].get("response_status") != observed.requests[0].answered or attempts[0].get("number") != 1:
        raise violation(requirement, f"attempt 1 logged with response_status {observed.requests[0].answered}", repr(pending)[:400], observed.pending_log)
    if len(attempts) == 1 and (pending.get("status") != "pending" or not pending.get("next_attempt_at")):
        raise violation(requirement, "status pending with a next_attempt_at while the retry waits", repr(pending)[:400], observed.pending_log)
    final = _delivery(observed.final_log, delivery_id)
    attempts = final.get("attempts") or []
    answered = [request.answered for request in observed.requests]
    if final.get("status") != "succeeded" or final.get("next_attempt_at") is not None:
        raise violation(requirement, "status succeeded and next_attempt_at null once the retry was acknowledged", repr(final)[:400], observed.final_log)
    if [a.get("number") for a in attempts] != list(range(1, len(answered) + 1)) or [a.get("response_status") for a in attempts] != answered:
        raise violation(requirement, f"attempts numbered 1..{len(answered)} answered {answered}, as the receiver answered them",
                        repr([(a.get("number"), a.get("response_status"), a.get("error")) for a in attempts]), observed.final_log)
    if final.get("event_id") != observed.requests[0].headers.get("webhook-id") or final.get("test") is not True:
        raise violation(requirement, f"event_id {observed.requests[0].headers.get('webhook-id')} and test true", repr(final)[:400], observed.final_log)
    stamps = [a.get("attempted_at") for a in attempts]
    if stamps != sorted(stamps):
        raise violation(requirement, "attempts oldest first", repr(stamps), observed.final_log)


# --- rotation -------------------------------------------------------------------------------------------------


@pytest.mark.requirement("/req/webhooks/rotation-overlap")
def test_rotation_signs_with_both_secrets_during_overlap(kit: KitSession, api: KitClient, receiver: WebhookReceiver) -> None:
    """Requirement: /req/webhooks/rotation-overlap (during the overlap, deliveries are signed with the new and the previous secret).
    Test purpose: after a rotation with an overlap, each delivery carries two v1 signatures, one per secret; a rotation
    without overlap retires the previous secret at once.
    Test method: 1. subscribe the receiver 2. rotate with overlap_seconds 3600: expect a new secret and
    previous_secret_expires_at about an hour ahead 3. send a test event: expect two v1 entries, one verifying with the
    new secret and the other with the old one 4. rotate again with overlap_seconds 0 and send a test event: one entry,
    verifying with the newest secret only. A delivery none of whose entries verifies with any of the secrets is
    signed wrongly, whatever the rotation does: that fails /req/webhooks/signature.
    """
    requirement = "/req/webhooks/rotation-overlap"
    with subscriptions(kit, api, receiver, requirement) as subs:
        sub = subs.create("rotation", ["lead.created"])
        old = sub.secret
        rotated = api.post(f"/webhooks/{sub.id}/rotate-secret", {"overlap_seconds": 3600}, headers=idempotency_key())
        new = body_of(rotated).get("secret")
        expires = body_of(rotated).get("previous_secret_expires_at")
        if rotated.status != 200 or not isinstance(new, str) or new == old or not isinstance(expires, str):
            raise violation(requirement, "200 with a new secret and previous_secret_expires_at", rotated.describe(), rotated)
        ahead = datetime.fromisoformat(expires.replace("Z", "+00:00")) - datetime.now(UTC)
        if not timedelta(minutes=55) <= ahead <= timedelta(minutes=65):
            raise violation(requirement, "previous_secret_expires_at about 3600 s after the rotation", f"{expires} ({ahead.total_seconds():.0f} s ahead)", rotated)
        delivery = _test_delivery(api, receiver, sub, requirement)
        entries = signature_entries(delivery.headers.get("webhook-signature", ""))
        by_new, by_old = matching_entries(new, delivery.headers, delivery.body), matching_entries(old, delivery.headers, delivery.body)
        _signed_by_one_of(delivery, (old, new))
        if len(entries) != 2 or len(by_new) != 1 or len(by_old) != 1 or by_new == by_old:
            raise violation(requirement, "two v1 entries during the overlap, one by the new secret and one by the previous one",
                            f"{len(entries)} entr(ies); matching the new secret: {by_new}, the previous one: {by_old}; {delivery.describe()}", None)
        again = api.post(f"/webhooks/{sub.id}/rotate-secret", {"overlap_seconds": 0}, headers=idempotency_key())
        newest = body_of(again).get("secret")
        if again.status != 200 or not isinstance(newest, str) or newest in (old, new):
            raise violation(requirement, "200 with a new secret", again.describe(), again)
        delivery = _test_delivery(api, receiver, sub, requirement)
        entries = signature_entries(delivery.headers.get("webhook-signature", ""))
        _signed_by_one_of(delivery, (old, new, newest))
        if len(entries) != 1 or len(matching_entries(newest, delivery.headers, delivery.body)) != 1 or matching_entries(new, delivery.headers, delivery.body):
            raise violation(requirement, "after a rotation with overlap_seconds 0, one v1 entry, by the newest secret only", delivery.describe(), None)


def _signed_by_one_of(delivery: ReceivedRequest, secrets: tuple[str, ...]) -> None:
    """A delivery that verifies with none of the subscription's secrets, old or new, is signed wrongly: /req/webhooks/signature."""
    if not any(matching_entries(secret, delivery.headers, delivery.body) for secret in secrets):
        raise violation("/req/webhooks/signature", "a v1 entry that verifies with one of the subscription's secrets (current or previous)",
                        f"none of the {len(signature_entries(delivery.headers.get('webhook-signature', '')))} entr(ies) does; {delivery.describe()}", None)


def _test_delivery(api: KitClient, receiver: WebhookReceiver, sub: Subscription, requirement: str, event_type: str = "lead.created") -> ReceivedRequest:
    sent = api.post(f"/webhooks/{sub.id}/test", {"type": event_type}, headers=idempotency_key())
    event_id = body_of(sent).get("event_id")
    if sent.status != 201 or not event_id:
        raise violation(requirement, f"201 with a test delivery of {event_type}", sent.describe(), sent)
    return wait_delivery(receiver, sub, lambda r: r.headers.get("webhook-id") == event_id, requirement, f"test event {event_id}", cause=sent)


# --- test events ------------------------------------------------------------------------------------------------


@pytest.mark.requirement("/req/webhooks/test-event")
def test_test_event_of_every_type(kit: KitSession, api: KitClient, receiver: WebhookReceiver) -> None:
    """Requirement: /req/webhooks/test-event (a test event of any type is delivered, signed, with test: true and a valid payload).
    Test purpose: sendWebhookTestEvent works for every event type of the spec, even ones the subscription does not subscribe to.
    Test method: 1. subscribe the receiver to the first event type only 2. for every type of the spec's EventType enum,
    send a test event: expect 201 with a pending delivery, test true, that event type 3. expect the delivery at the
    receiver with webhook-id = event_id = payload id, a signature that verifies, test true, and a payload valid against
    that event's schema 4. find every test delivery in the subscription's log. (How a delivery is signed is owned by
    /req/webhooks/signature: a test event signed wrongly fails that requirement.)
    """
    requirement = "/req/webhooks/test-event"
    contracts = event_contracts(kit)
    types = event_types(kit)
    with subscriptions(kit, api, receiver, requirement) as subs:
        sub = subs.create("test-event", types[:1])
        delivered = []
        for event_type in types:
            sent = api.post(f"/webhooks/{sub.id}/test", {"type": event_type}, headers=idempotency_key())
            delivery = body_of(sent)
            wanted = {"test": True, "event_type": event_type, "status": "pending", "webhook_id": sub.id}
            if sent.status != 201 or any(delivery.get(name) != value for name, value in wanted.items()) or not delivery.get("event_id"):
                raise violation(requirement, f"201 with a delivery {wanted}", sent.describe(), sent)
            request = wait_delivery(receiver, sub, lambda r, e=delivery["event_id"]: r.headers.get("webhook-id") == e, requirement,
                                    f"the {event_type} test event {delivery['event_id']}", cause=sent)
            contract = contracts.get(event_type)
            if contract is None:
                raise violation(requirement, f"{event_type} described in the spec's webhooks section", "no such event there", sent)
            check_signed(contract, request, sub.secret, "/req/webhooks/signature", sent)
            payload = check_payload(contract, request, requirement, sent)
            if payload.get("test") is not True or payload.get("type") != event_type:
                raise violation(requirement, f"a {event_type} payload with test: true", request.describe(), sent)
            delivered.append(delivery["id"])
        logged, pages = walk(api, f"/webhooks/{sub.id}/deliveries", limit=50, max_pages=10)
        missing = set(delivered) - {item.get("id") for item in logged}
        if missing:
            raise violation(requirement, "every test delivery in the subscription's delivery log", f"missing {sorted(missing)}", pages[-1])


# --- private targets --------------------------------------------------------------------------------------------


@pytest.mark.requirement("/req/webhooks/private-targets-refused")
def test_private_targets_are_refused(kit: KitSession, api: KitClient, receiver: WebhookReceiver) -> None:
    """Requirement: /req/webhooks/private-targets-refused (a URL on a private, link-local or reserved address is 400 webhook_url_not_allowed).
    Test purpose: the server refuses to store a subscription whose URL reaches a refused address, on create and on update.
    Test method: 1. create subscriptions to http://10.0.0.5/hook, http://169.254.169.254/latest, a 192.168 address and a
    unique-local IPv6 address: expect 400 webhook_url_not_allowed each (the server refuses before any connection; the
    kit never connects there) 2. change an existing subscription's URL to http://10.0.0.5/hook: expect the same 400
    and the URL unchanged.
    """
    requirement = "/req/webhooks/private-targets-refused"
    for url in REFUSED_TARGETS:
        created = api.post("/webhooks", {"url": url, "events": ["lead.created"], "description": f"conformance kit, {kit.tag}"}, headers=idempotency_key())
        if created.status == 201:
            kit.remember_created(api, created)
            api.delete(f"/webhooks/{body_of(created).get('id')}")
        if created.status != 400 or (body_of(created).get("error") or {}).get("code") != "webhook_url_not_allowed":
            raise violation(requirement, f"400 webhook_url_not_allowed for {url}", created.describe(), created)
    with subscriptions(kit, api, receiver, requirement) as subs:
        sub = subs.create("private-targets", ["lead.created"])
        changed = api.patch(f"/webhooks/{sub.id}", {"url": REFUSED_TARGETS[0]})
        if changed.status != 400 or (body_of(changed).get("error") or {}).get("code") != "webhook_url_not_allowed":
            raise violation(requirement, f"400 webhook_url_not_allowed changing the URL to {REFUSED_TARGETS[0]}", changed.describe(), changed)
        read = api.get(f"/webhooks/{sub.id}")
        if body_of(read).get("url") != sub.url:
            raise violation(requirement, f"the URL unchanged ({sub.url}) after a refused update", read.describe(), read)


# --- events from the API ------------------------------------------------------------------------------------------


def _silent(receiver: WebhookReceiver, sub: Subscription, match: Callable[[ReceivedRequest], bool], requirement: str, what: str) -> None:
    from apollospace_conformance import runtime

    run = runtime.active()
    smoke = run is not None and not run.settings.profile_settings.certification
    time.sleep(QUIET_SMOKE_SECONDS if smoke else QUIET_SECONDS)
    unwanted = [request for request in receiver.requests(sub.path) if match(request)]
    if unwanted:
        raise violation(requirement, f"no {what}", unwanted[0].describe(), None)


@pytest.mark.requirement("/req/webhooks/lead-created-event")
def test_lead_created_reaches_every_enabled_subscription(kit: KitSession, api: KitClient, receiver: WebhookReceiver) -> None:
    """Requirement: /req/webhooks/lead-created-event (creating a lead delivers lead.created to every enabled subscription of that event).
    Test purpose: createLead and an import each send lead.created, with the lead, to every enabled subscription to it, and
    to no other subscription.
    Test method: 1. subscribe two receiver paths to lead.created, a third to lead.created but disabled, a fourth to
    activity.created only 2. create a lead: both enabled subscriptions get lead.created whose data.lead is the lead as
    created 3. the disabled one and the activity-only one get nothing for it 4. import one lead: the enabled
    subscriptions get lead.created for it too.
    """
    requirement = "/req/webhooks/lead-created-event"
    with subscriptions(kit, api, receiver, requirement) as subs:
        enabled = [subs.create("lead-created-a", ["lead.created"]), subs.create("lead-created-b", ["lead.created", "activity.created"])]
        disabled = subs.create("lead-created-off", ["lead.created"], enabled=False)
        other = subs.create("lead-created-other", ["activity.created"])
        lead = create_lead(kit, api)
        about = event_match("lead.created", lambda data: (data.get("lead") or {}).get("id") == lead["id"])
        for sub in enabled:
            request = wait_delivery(receiver, sub, about, requirement, f"lead.created for lead {lead['id']}")
            if _payload(request)["data"]["lead"] != lead:
                raise violation(requirement, f"data.lead equal to the lead as created: {lead}", request.describe(), None)
        for sub, what in ((disabled, "lead.created for a disabled subscription"), (other, "lead.created for a subscription to activity.created only")):
            _silent(receiver, sub, about, requirement, what)
        tag = f"{kit.tag}-whimp"[:50]
        imported = api.post("/lead-imports", {"pipeline_id": first_pipeline_id(api), "rows": [{"contact_name": "Webhook Import", "tags": [kit.tag, tag]}]},
                            headers=idempotency_key())
        try:
            if imported.status != 201:
                raise violation(requirement, "201 with an import job", imported.describe(), imported)
            request = wait_delivery(receiver, enabled[0], event_match("lead.created", lambda data: tag in ((data.get("lead") or {}).get("tags") or [])),
                                    requirement, "lead.created for the lead an import created", cause=imported)
            if "Webhook Import" != _payload(request)["data"]["lead"].get("contact_name"):
                raise violation(requirement, "the imported lead in data.lead", request.describe(), imported)
        finally:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # delete the imported lead once the job made it
                items, _ = walk(api, "/leads", {"tag": tag}, limit=50, max_pages=5)
                for item in items:
                    api.delete(f"/leads/{item['id']}")
                job = api.get(f"/lead-imports/{body_of(imported).get('id')}") if imported.status == 201 else None
                if items or job is None or body_of(job).get("completed_at"):
                    break
                time.sleep(0.5)


@pytest.mark.requirement("/req/webhooks/activity-created-event")
def test_activity_created_reaches_subscriptions(kit: KitSession, api: KitClient, receiver: WebhookReceiver) -> None:
    """Requirement: /req/webhooks/activity-created-event (adding an activity to a lead delivers activity.created to every enabled subscription).
    Test purpose: a note and a stage change each send activity.created with the activity, and only to subscriptions of that event.
    Test method: 1. subscribe one receiver path to activity.created and another to lead.created only 2. create a lead and
    add a note: the first gets activity.created whose data.activity is the note as created 3. move the lead to another
    stage: the first gets activity.created of type stage_change for the lead 4. the lead.created-only subscription gets
    no activity.created.
    """
    requirement = "/req/webhooks/activity-created-event"
    with subscriptions(kit, api, receiver, requirement) as subs:
        sub = subs.create("activity-created", ["activity.created"])
        other = subs.create("activity-created-other", ["lead.created"])
        pipeline_id = first_pipeline_id(api)
        lead = create_lead(kit, api, pipeline_id)
        added = api.post(f"/leads/{lead['id']}/activities", {"body": f"Activity event check ({kit.tag})."})
        if added.status != 201:
            raise violation(requirement, "201 adding a note", added.describe(), added)
        note = body_of(added)
        request = wait_delivery(receiver, sub, event_match("activity.created", lambda data: (data.get("activity") or {}).get("id") == note["id"]),
                                requirement, f"activity.created for note {note['id']}", cause=added)
        if _payload(request)["data"]["activity"] != note:
            raise violation(requirement, f"data.activity equal to the note as created: {note}", request.describe(), added)
        stages = body_of(api.get(f"/pipelines/{pipeline_id}")).get("stages") or []
        target = next((s for s in stages if not s.get("archived") and s.get("id") != lead["stage_id"]), None)
        if target is not None:
            moved = api.patch(f"/leads/{lead['id']}", {"stage_id": target["id"]})
            if moved.status != 200:
                raise violation(requirement, "200 moving the lead to another stage", moved.describe(), moved)
            wait_delivery(receiver, sub, event_match("activity.created", lambda data: (data.get("activity") or {}).get("lead_id") == lead["id"]
                                                     and (data.get("activity") or {}).get("type") == "stage_change"),
                          requirement, f"activity.created of type stage_change for lead {lead['id']}", cause=moved)
        _silent(receiver, other, lambda r: _payload(r).get("type") == "activity.created", requirement, "activity.created for a subscription to lead.created only")



def inbound_channels(kit: KitSession) -> list[str]:
    """The channels logInboundMessage accepts, from its request schema's `channel` enum."""
    document = kit.spec.document
    body = resolve(document, _operation(kit, "logInboundMessage")["requestBody"])
    schema = resolve(document, body["content"]["application/json"]["schema"])
    return list(resolve(document, schema["properties"]["channel"])["enum"])


def _about_activity(event_type: str, activity_id: Any) -> Callable[[ReceivedRequest], bool]:
    return event_match(event_type, lambda data: (data.get("activity") or {}).get("id") == activity_id)


@pytest.mark.requirement("/req/webhooks/reply-detected-event")
def test_reply_detected_reaches_subscriptions(kit: KitSession, api: KitClient, receiver: WebhookReceiver) -> None:
    """Requirement: /req/webhooks/reply-detected-event (logging an inbound message records a reply and delivers reply.detected to every enabled subscription of that event).
    Test purpose: a message logged with logInboundMessage is on the lead's timeline as a reply of its channel, and
    reply.detected about it reaches the subscriptions of that event, and only them; a note sends no reply.detected.
    Test method: 1. subscribe one receiver path to reply.detected and another to activity.created only 2. create a
    lead, add a note, then log an inbound message on a channel drawn (by the seed) from the spec's enum: expect a 2xx
    with an activity of that type for the lead, is_reply true 3. find that activity on the lead's timeline 4. expect
    reply.detected at the first path, signed with its secret (/req/webhooks/signature), valid against the event's
    schema in the spec's webhooks section (/req/webhooks/payload-schema), a real event of the organization whose
    data.activity is the logged activity, data.lead_id the lead and data.channel the channel 5. expect activity.created
    about the reply at the second path (/req/webhooks/activity-created-event) 6. no reply.detected at the second path,
    and none about the note at the first.
    """
    requirement = "/req/webhooks/reply-detected-event"
    contract = event_contracts(kit).get("reply.detected")
    if contract is None:
        raise violation(requirement, "reply.detected described in the spec's webhooks section", "no such event there", None)
    channel = random.Random(f"{kit.settings.seed}:reply-detected").choice(inbound_channels(kit))
    with subscriptions(kit, api, receiver, requirement) as subs:
        replies = subs.create("reply-detected", ["reply.detected"])
        activities = subs.create("reply-detected-other", ["activity.created"])
        lead = create_lead(kit, api)
        noted = api.post(f"/leads/{lead['id']}/activities", {"body": f"Sent the proposal ({kit.tag})."}, headers=idempotency_key())
        note_id = body_of(noted).get("id")
        logged = api.post(f"/leads/{lead['id']}/inbound-messages", {"channel": channel, "body": f"Could you send the proposal by Friday? ({kit.tag})"},
                          headers=idempotency_key())
        reply = body_of(logged)
        # 201 is /req/status-codes/created-201's to judge: any 2xx with the activity counts as logged here.
        if not 200 <= logged.status < 300 or not reply.get("id"):
            raise violation(requirement, f"201 with the activity logging a {channel} message from lead {lead['id']}", logged.describe(), logged)
        wanted = {"type": channel, "lead_id": lead["id"], "is_reply": True}
        if any(reply.get(name) != value for name, value in wanted.items()):
            raise violation(requirement, f"the logged activity with {wanted}", logged.describe(), logged)
        listed, pages = walk(api, f"/leads/{lead['id']}/activities", limit=50, max_pages=5)
        if next((item for item in listed if item.get("id") == reply["id"]), None) != reply:
            raise violation(requirement, f"the logged reply on the lead's timeline, as logged: {reply}", repr(listed)[:400], pages[-1])
        request = wait_delivery(receiver, replies, _about_activity("reply.detected", reply["id"]), requirement,
                                f"reply.detected for activity {reply['id']}", cause=logged)
        check_signed(contract, request, replies.secret, "/req/webhooks/signature", logged)
        payload = check_payload(contract, request, "/req/webhooks/payload-schema", logged)
        expected = {"activity": reply, "lead_id": lead["id"], "channel": channel}
        if payload.get("test") is not False or payload.get("organization_id") != kit.settings.org_a or payload.get("data") != expected:
            raise violation(requirement, f"a real event (test false) of organization {kit.settings.org_a} with data {expected}", request.describe(), logged)
        wait_delivery(receiver, activities, _about_activity("activity.created", reply["id"]), "/req/webhooks/activity-created-event",
                      f"activity.created for the logged reply {reply['id']}", cause=logged)
        _silent(receiver, activities, lambda r: _payload(r).get("type") == "reply.detected", requirement,
                "reply.detected for a subscription to activity.created only")
        about_note = [r for r in receiver.requests(replies.path) if note_id and _about_activity("reply.detected", note_id)(r)]
        if about_note:
            raise violation(requirement, f"no reply.detected for note {note_id}, which is not a reply", about_note[0].describe(), noted)
        kit.exercised(requirement, logged)  # the report's sample: the logged reply, not the subscriptions made for it
