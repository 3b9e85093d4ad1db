"""Breaks /req/organization/foreign-resource-404: a resource of another organization is answered 403, not 404.

"It exists, but it is not yours" feels like the honest answer to the partner;
it also tells a caller which ids exist in other organizations.
"""

from __future__ import annotations

import sqlite3
import sys

from apollospace_refserver.errors import ApiError
from apollospace_refserver.operations import common

_original = common.fetch_owned


def _fetch_owned(conn: sqlite3.Connection, table: str, kind: str, resource_id: str, org_id: str) -> sqlite3.Row:
    try:
        return _original(conn, table, kind, resource_id, org_id)
    except ApiError:
        if conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (resource_id.lower(),)).fetchone() is not None:
            raise ApiError(403, "organization_forbidden", f"This {kind.replace('_', ' ')} belongs to another organization.") from None
        raise


def patch() -> None:
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("apollospace_refserver") and getattr(module, "fetch_owned", None) is _original:
            module.fetch_owned = _fetch_owned  # type: ignore[attr-defined]
