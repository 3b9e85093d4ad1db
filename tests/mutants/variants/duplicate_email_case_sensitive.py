"""Breaks /req/leads/import-duplicate-policy: an import matches duplicates by email byte for byte, so `ANA@X.COM` is not `ana@x.com`.

The leads table stores emails lower-cased but the import compares the row's
email as written; spreadsheets exported from CRMs often upper-case them, and
each such row becomes a new duplicate lead.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from apollospace_refserver.operations import imports

_original = imports.find_duplicate


def _find_duplicate(conn: sqlite3.Connection, org_id: str, row: dict[str, Any]) -> tuple[str | None, bool]:
    email = row.get("email")
    if email and email != email.lower():  # never equal to a stored (lower-case) email
        return _original(conn, org_id, {**row, "email": None})
    return _original(conn, org_id, row)


def patch() -> None:
    imports.find_duplicate = _find_duplicate
