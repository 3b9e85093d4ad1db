"""Breaks /req/identifiers/no-integer-ids: every lead also carries `crm_id`, the database's auto-increment key.

A partner migrating from a legacy CRM exposes the old numeric primary key next
to the UUID "so integrations can still match records".
"""

from __future__ import annotations

from typing import Any

from tests.mutants.asgi import ASGIApp, Exchange, rewrite_responses

_NUMBERS: dict[str, int] = {}


def _with_crm_id(value: Any) -> Any:
    if isinstance(value, dict):
        value = {key: _with_crm_id(item) for key, item in value.items()}
        if "contact_name" in value and isinstance(value.get("id"), str):  # a lead
            value["crm_id"] = _NUMBERS.setdefault(value["id"], len(_NUMBERS) + 1001)
        return value
    if isinstance(value, list):
        return [_with_crm_id(item) for item in value]
    return value


def _transform(exchange: Exchange) -> None:
    if exchange.has_body and exchange.status < 400:
        exchange.body = _with_crm_id(exchange.body)


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_responses(app, _transform)
