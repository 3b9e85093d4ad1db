"""Breaks /req/organization/foreign-resource-404: listWebhookDeliveries finds the subscription by its id alone and lists its deliveries to anyone.

The delivery log is read by webhook id; neither the subscription lookup nor
the log query carries the organization, so another tenant reads every
payload this organization's events sent.
"""

from __future__ import annotations

from typing import Any

from apollospace_refserver.errors import not_found
from apollospace_refserver.handlers import HANDLERS, Call, Result
from apollospace_refserver.operations.common import filtered_page
from apollospace_refserver.operations.webhooks import render_delivery
from apollospace_refserver.timeutil import iso, now
from apollospace_refserver.webhook_delivery import RETENTION


def _list_webhook_deliveries(call: Call) -> Result:
    row = call.conn.execute("SELECT * FROM webhooks WHERE id = ?", (call.path["webhook_id"].lower(),)).fetchone()
    if row is None:
        raise not_found("webhook")
    where = ["webhook_id = ?", "created_at >= ?"]
    args: list[Any] = [row["id"], iso(now() - RETENTION)]
    for name in ("status", "event_type"):
        if call.query.get(name):
            where.append(f"{name} = ?")
            args.append(call.query[name])
    return Result(filtered_page(call, "deliveries", where, args, render_delivery, scope={"webhook_id": row["id"]}))


def patch() -> None:
    HANDLERS["listWebhookDeliveries"] = _list_webhook_deliveries
