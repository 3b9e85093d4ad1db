"""Breaks /req/organization/foreign-resource-404: getLeadImport reads the import job by its id alone, so another organization's import is returned.

An import job's id is handed to the caller to poll; the poll query never
learned about organizations, and the results name the other tenant's leads.
"""

from __future__ import annotations

from apollospace_refserver.errors import not_found
from apollospace_refserver.handlers import HANDLERS, Call, Result
from apollospace_refserver.operations.imports import render_import


def _get_lead_import(call: Call) -> Result:
    row = call.conn.execute("SELECT * FROM lead_imports WHERE id = ?", (call.path["import_id"].lower(),)).fetchone()
    if row is None:
        raise not_found("import")
    return Result(render_import(call.conn, row))


def patch() -> None:
    HANDLERS["getLeadImport"] = _get_lead_import
