"""Breaks /req/webhooks/test-event: a test event of a type the subscription is not subscribed to is refused.

The partner reuses the real fan-out for test events, so "send a test
lead.updated" to a subscription of lead.created only is answered 400, while
the contract lets a receiver be tested for any event type.
"""

from __future__ import annotations

from apollospace_refserver.db import loads
from apollospace_refserver.errors import validation_failed
from apollospace_refserver.handlers import HANDLERS, Call, Result
from apollospace_refserver.operations import webhooks


def _send_test_event(call: Call) -> Result:
    subscribed = loads(webhooks.subscription_by_id(call)["doc"])["events"]
    if call.body["type"] not in subscribed:
        raise validation_failed(f"The subscription is not subscribed to {call.body['type']}.")
    return webhooks.send_webhook_test_event(call)


def patch() -> None:
    HANDLERS["sendWebhookTestEvent"] = _send_test_event
