"""Breaks /req/webhooks/retry-same-id: a delivery that is not acknowledged is marked failed at once and never retried.

Fire-and-forget delivery: the partner POSTs each event once from the request
path (or a queue without a retry policy) and logs the failure.
"""

from __future__ import annotations

from dataclasses import replace

from apollospace_refserver import Settings


def configure(settings: Settings) -> Settings:
    return replace(settings, webhook_retry_schedule=())
