"""Webhooks: subscriptions, secret rotation, test events and the delivery log.

Role gating comes from the spec (`x-apollospace-roles`, applied by the
dispatcher): every role reads, owners and admins change. The signing secret
is in the body of `createWebhookSubscription` and `rotateWebhookSecret` only.
"""

from __future__ import annotations

import copy
import re
import sqlite3
from datetime import timedelta
from typing import Any

from apollospace_refserver import webhook_delivery  # noqa: F401  registers the delivery worker
from apollospace_refserver.db import dumps, loads
from apollospace_refserver.events import build_payload, event_schema, queue_delivery
from apollospace_refserver.handlers import Call, Result, handles, prechecks
from apollospace_refserver.ids import new_id
from apollospace_refserver.operations.common import fetch_owned, filtered_page, location
from apollospace_refserver.pagination import PageQuery, fetch_page, scope_of
from apollospace_refserver.services import Services
from apollospace_refserver.timeutil import iso, now, now_iso
from apollospace_refserver.webhook_signing import new_secret

SUBSCRIPTION_FIELDS = ("id", "url", "events", "description", "enabled", "created_at", "updated_at")
DEFAULT_OVERLAP_SECONDS = 86_400
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def render_subscription(row: sqlite3.Row) -> dict[str, Any]:
    """The subscription as the API shows it: never its secrets."""
    doc = loads(row["doc"])
    return {name: doc[name] for name in SUBSCRIPTION_FIELDS}


def render_delivery(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "webhook_id": row["webhook_id"],
        "event_id": row["event_id"],
        "event_type": row["event_type"],
        "status": row["status"],
        "test": bool(row["test"]),
        "attempts": loads(row["attempts"]),
        "next_attempt_at": row["next_attempt_at"],
        "created_at": row["created_at"],
    }


def subscription_by_id(call: Call) -> sqlite3.Row:
    return fetch_owned(call.conn, "webhooks", "webhook", call.path["webhook_id"], call.org_id)


@prechecks("createWebhookSubscription", "updateWebhookSubscription")
def check_url(services: Services, body: Any) -> None:
    """400 webhook_url_not_allowed for a URL that reaches a refused address (resolving it may take seconds)."""
    if isinstance(body, dict) and "url" in body:
        webhook_delivery.delivery_policy(services).check_url(body["url"])


def sample_data(event_type: str) -> dict[str, Any]:
    """Made-up `data` for a test event: the spec's example of the event, with fresh ids and times.

    Every id is replaced by a new random one (the same example id by the same
    new id, so `data.lead_id` still equals `data.activity.lead_id`), so none
    names a resource of the organization; every timestamp becomes now.
    """
    examples = event_schema(event_type).get("examples") or []
    if not examples:
        raise RuntimeError(
            f"the spec has no example of the {event_type} event to base a test event on"
        )
    fresh: dict[str, str] = {}
    stamp = now_iso()

    def remap(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: remap(value) for key, value in node.items()}
        if isinstance(node, list):
            return [remap(item) for item in node]
        if isinstance(node, str) and _UUID.match(node):
            return fresh.setdefault(node.lower(), new_id())
        if isinstance(node, str) and _TIMESTAMP.match(node):
            return stamp
        return node

    return dict(remap(copy.deepcopy(examples[0]["data"])))


@handles("listWebhookSubscriptions")
def list_webhook_subscriptions(call: Call) -> Result:
    page = fetch_page(
        call.conn,
        call.services.cursors,
        scope_of("listWebhookSubscriptions", call.org_id, {}),
        PageQuery("FROM webhooks", ["org_id = ?"], [call.org_id], "created_at"),
        call.query.get("cursor"),
        call.query.get("limit"),
        render_subscription,
    )
    return Result(page)


@handles("createWebhookSubscription")
def create_webhook_subscription(call: Call) -> Result:
    body = call.body  # its url passed check_url before the transaction
    stamp = now_iso()
    doc = {
        "id": new_id(),
        "url": body["url"],
        "events": list(body["events"]),
        "description": body.get("description"),
        "enabled": body.get("enabled", True),
        "created_at": stamp,
        "updated_at": stamp,
    }
    secret = new_secret()
    call.conn.execute(
        "INSERT INTO webhooks (id, org_id, doc, secret, previous_secret,"
        " previous_secret_expires_at, created_at) VALUES (?, ?, ?, ?, NULL, NULL, ?)",
        (doc["id"], call.org_id, dumps(doc), secret, stamp),
    )
    return Result({**doc, "secret": secret}, headers=location(f"/webhooks/{doc['id']}"))


@handles("getWebhookSubscription")
def get_webhook_subscription(call: Call) -> Result:
    return Result(render_subscription(subscription_by_id(call)))


@handles("updateWebhookSubscription")
def update_webhook_subscription(call: Call) -> Result:
    row = subscription_by_id(call)
    changes = dict(call.body)  # a new url passed check_url before the transaction
    if "events" in changes:
        changes["events"] = list(changes["events"])
    doc = {**loads(row["doc"]), **changes, "updated_at": now_iso()}
    call.conn.execute("UPDATE webhooks SET doc = ? WHERE id = ?", (dumps(doc), row["id"]))
    return Result(
        render_subscription(
            call.conn.execute("SELECT * FROM webhooks WHERE id = ?", (row["id"],)).fetchone()
        )
    )


@handles("deleteWebhookSubscription")
def delete_webhook_subscription(call: Call) -> Result:
    row = subscription_by_id(call)
    call.conn.execute("DELETE FROM deliveries WHERE webhook_id = ?", (row["id"],))
    call.conn.execute("DELETE FROM webhooks WHERE id = ?", (row["id"],))
    return Result(status=204)


@handles("rotateWebhookSecret")
def rotate_webhook_secret(call: Call) -> Result:
    row = subscription_by_id(call)
    overlap = (call.body or {}).get("overlap_seconds", DEFAULT_OVERLAP_SECONDS)
    secret = new_secret()
    # The secret being replaced becomes the previous one; an older previous one retires now.
    previous, expires = (
        (row["secret"], iso(now() + timedelta(seconds=overlap))) if overlap > 0 else (None, None)
    )
    call.conn.execute(
        "UPDATE webhooks SET secret = ?, previous_secret = ?, previous_secret_expires_at = ?"
        " WHERE id = ?",
        (secret, previous, expires, row["id"]),
    )
    return Result({"secret": secret, "previous_secret_expires_at": expires})


@handles("sendWebhookTestEvent")
def send_webhook_test_event(call: Call) -> Result:
    row = subscription_by_id(call)
    event_type = call.body["type"]
    payload = build_payload(call.org_id, event_type, sample_data(event_type), test=True)
    delivery = queue_delivery(call.conn, call.org_id, row["id"], payload)
    return Result(render_delivery(delivery), headers=location(f"/webhooks/{row['id']}/deliveries"))


@handles("listWebhookDeliveries")
def list_webhook_deliveries(call: Call) -> Result:
    row = subscription_by_id(call)
    q = call.query
    where = ["webhook_id = ?", "org_id = ?", "created_at >= ?"]
    args: list[Any] = [row["id"], call.org_id, iso(now() - webhook_delivery.RETENTION)]
    for name in ("status", "event_type"):
        if q.get(name):
            where.append(f"{name} = ?")
            args.append(q[name])
    return Result(filtered_page(call, "deliveries", where, args, render_delivery, scope={"webhook_id": row["id"]}))
