"""Breaks /req/webhooks/secret-once: getWebhookSubscription and the list return the signing secret on every read.

The subscription serializer includes every column of the table, `secret`
among them, so anyone who can read the subscriptions (viewers included)
can forge deliveries.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from apollospace_refserver.operations import webhooks

_original = webhooks.render_subscription


def _render_subscription(row: sqlite3.Row) -> dict[str, Any]:
    return {**_original(row), "secret": row["secret"]}


def patch() -> None:
    webhooks.render_subscription = _render_subscription
