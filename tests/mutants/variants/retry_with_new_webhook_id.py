"""Breaks /req/webhooks/retry-same-id: every retry carries a new `webhook-id`, so receivers cannot deduplicate it.

The partner generates the `webhook-id` per HTTP attempt (a message id from
the outgoing queue) instead of per event, so a retry looks like a new event
to a receiver that deduplicates by id.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx

from apollospace_refserver import webhook_delivery
from apollospace_refserver.ids import new_id

_original = webhook_delivery.attempt


def _attempt(client: httpx.Client, job: webhook_delivery.Job, timeout: float) -> dict[str, Any]:
    if job.number > 1:
        job = replace(job, event_id=new_id())  # only the header changes; the body keeps the event's id
    return _original(client, job, timeout)


def patch() -> None:
    webhook_delivery.attempt = _attempt
