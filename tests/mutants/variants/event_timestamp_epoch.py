"""Breaks /req/webhooks/payload-schema: real events carry `timestamp` as Unix epoch seconds instead of an RFC 3339 string.

Real events come from the partner's domain event bus, which serializes
datetimes as epoch numbers; test events are built from the spec's examples
and look right, so the mismatch shows only in production.
"""

from __future__ import annotations

from typing import Any

from apollospace_refserver import events
from apollospace_refserver.timeutil import parse_instant

_original = events.build_payload


def _build_payload(org_id: str, event_type: str, data: dict[str, Any], *, test: bool = False) -> dict[str, Any]:
    payload = _original(org_id, event_type, data, test=test)
    if not test:
        payload["timestamp"] = int(parse_instant(payload["timestamp"]).timestamp())
    return payload


def patch() -> None:
    events.build_payload = _build_payload  # emit_event (real events) looks it up here; test events import it by name
