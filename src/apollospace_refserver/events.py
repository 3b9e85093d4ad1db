"""Webhook events: build the payload of an event and queue its deliveries.

`emit_event` is called by the surfaces (leads, activities, ...) inside their
own transaction, with the connection they write with: the deliveries it
queues commit together with the change that caused the event, or not at all.
The delivery worker (`webhook_delivery.py`) then POSTs them.

Every payload is checked against its event's schema in the spec's
`webhooks:` section before it is queued; a payload the spec does not allow
is a bug in the emitter and raises instead of reaching a receiver.
"""

from __future__ import annotations

import functools
import sqlite3
from typing import Any

from jsonschema import Draft202012Validator

from apollospace_refserver.db import dumps, loads
from apollospace_refserver.ids import new_id
from apollospace_refserver.timeutil import now_iso
from apollospace_spec import bundled_spec
from apollospace_spec.model import resolve
from apollospace_spec.validation import SchemaValidator, describe


class EventPayloadInvalid(RuntimeError):
    """An event payload that its schema in the spec's `webhooks:` section refuses."""


@functools.lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    return bundled_spec()


def event_schema(event_type: str) -> dict[str, Any]:
    """The (resolved) payload schema of `event_type`, from the spec's `webhooks:` section."""
    document = _document()
    try:
        operation = document["webhooks"][event_type]["post"]
    except KeyError as exc:
        raise ValueError(f"unknown event type {event_type!r}") from exc
    return dict(
        resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])
    )


@functools.lru_cache(maxsize=16)
def _validator(event_type: str) -> Draft202012Validator:
    document = _document()
    schema = document["webhooks"][event_type]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    return SchemaValidator(document).for_schema(schema)


def event_types() -> tuple[str, ...]:
    return tuple(_document()["webhooks"])


def build_payload(
    org_id: str, event_type: str, data: dict[str, Any], *, test: bool = False
) -> dict[str, Any]:
    """The body of an event: a fresh event id, the time it occurred, the organization and `data`."""
    if event_type not in event_types():
        raise ValueError(f"unknown event type {event_type!r}")
    payload = {
        "id": new_id(),
        "type": event_type,
        "timestamp": now_iso(),
        "organization_id": org_id,
        "test": test,
        "data": data,
    }
    error = next(_validator(event_type).iter_errors(payload), None)
    if error is not None:
        raise EventPayloadInvalid(
            f"{event_type} payload does not match its schema: {describe(error)}"
        )
    return payload


def queue_delivery(
    conn: sqlite3.Connection, org_id: str, webhook_id: str, payload: dict[str, Any]
) -> sqlite3.Row:
    """A pending delivery of `payload` to one subscription, due at once; returns its row."""
    stamp = now_iso()
    delivery_id = new_id()
    conn.execute(
        "INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, status, payload,"
        " test, attempts, next_attempt_at, created_at)"
        " VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, '[]', ?, ?)",
        (
            delivery_id,
            org_id,
            webhook_id,
            payload["id"],
            payload["type"],
            dumps(payload),
            int(payload["test"]),
            stamp,
            stamp,
        ),
    )
    return conn.execute("SELECT * FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()


def emit_event(
    conn: sqlite3.Connection, org_id: str, event_type: str, data: dict[str, Any]
) -> None:
    """Queue `event_type` for every enabled subscription of the organization subscribed to it.

    Runs in the caller's transaction (`conn`). One event has one id, shared by
    its deliveries to the different subscriptions.
    """
    if event_type not in event_types():
        raise ValueError(f"unknown event type {event_type!r}")
    targets = []
    for row in conn.execute(
        "SELECT id, doc FROM webhooks WHERE org_id = ? ORDER BY created_at, id", (org_id,)
    ).fetchall():
        doc = loads(row["doc"])
        if doc["enabled"] and event_type in doc["events"]:
            targets.append(row["id"])
    if not targets:
        return
    payload = build_payload(org_id, event_type, data)
    for webhook_id in targets:
        queue_delivery(conn, org_id, webhook_id, payload)
