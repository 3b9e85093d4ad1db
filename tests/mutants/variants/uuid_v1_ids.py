"""Breaks /req/identifiers/uuid-v4: new resources get version 1 (time-based) UUIDs.

`uuid.uuid1()` is what a partner picks for ids that sort by creation time (or
what their database's `uuid_generate_v1()` default gives); the server checks
ids only for "is a UUID", so it reads its own v1 ids back without complaint.
"""

from __future__ import annotations

import sys
import uuid
from typing import Any

import apollospace_refserver.contract
from apollospace_refserver import ids

ANY_UUID = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def _new_id() -> str:
    return str(uuid.uuid1())


def _any_uuid_spec(original: Any) -> Any:
    def bundled() -> dict[str, Any]:
        document = original()
        document["components"]["schemas"]["Uuid"]["pattern"] = ANY_UUID  # path and body ids: any UUID version
        return document

    return bundled


def patch() -> None:
    original = ids.new_id
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("apollospace_refserver") and getattr(module, "new_id", None) is original:
            module.new_id = _new_id  # type: ignore[attr-defined]
    apollospace_refserver.contract.bundled_spec = _any_uuid_spec(apollospace_refserver.contract.bundled_spec)
