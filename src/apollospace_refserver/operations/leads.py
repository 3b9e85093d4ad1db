"""Leads: list with filters, create, get, update, delete."""

from __future__ import annotations

import sqlite3
from typing import Any

from apollospace_refserver.db import loads
from apollospace_refserver.errors import ApiError, not_found
from apollospace_refserver.events import emit_event
from apollospace_refserver.fastjson import dumps_text, with_member
from apollospace_refserver.handlers import Call, Result, handles
from apollospace_refserver.ids import new_id
from apollospace_refserver.operations.common import fetch_owned, filtered_page, location
from apollospace_refserver.timeutil import now_iso

OPTIONAL_FIELDS = ("company_name", "email", "phone", "owner_id", "value_cents", "website", "city", "state", "country")


def _stage_name(conn: sqlite3.Connection, stage_id: str, stage_names: dict[str, str] | None) -> str:
    """The stage's name; `stage_names` remembers names across one page's rows."""
    name = stage_names.get(stage_id) if stage_names is not None else None
    if name is None:
        stage = conn.execute("SELECT name FROM stages WHERE id = ?", (stage_id,)).fetchone()
        name = stage["name"] if stage else ""
        if stage_names is not None:
            stage_names[stage_id] = name
    return name


def render_lead(conn: sqlite3.Connection, row: sqlite3.Row, stage_names: dict[str, str] | None = None) -> dict[str, Any]:
    """The stored lead with its stage's name."""
    return _with_stage(conn, loads(row["doc"]), row["stage_id"], stage_names)


def _with_stage(conn: sqlite3.Connection, doc: dict[str, Any], stage_id: str, stage_names: dict[str, str] | None = None) -> dict[str, Any]:
    """A lead document as the API shows it: with its stage's name."""
    return {**doc, "stage": _stage_name(conn, stage_id, stage_names)}


def render_lead_for_page(conn: sqlite3.Connection, row: sqlite3.Row, stage_names: dict[str, str]) -> Any:
    """A listLeads item: the stored document with `stage` appended, sent without parsing it (same JSON)."""
    spliced = with_member(row["doc"], "stage", _stage_name(conn, row["stage_id"], stage_names))
    return spliced if spliced is not None else render_lead(conn, row, stage_names)


def lead_by_id(call: Call, lead_id: str) -> sqlite3.Row:
    return fetch_owned(call.conn, "leads", "lead", lead_id, call.org_id)


def check_owner(call: Call, owner_id: str | None) -> None:
    if owner_id is None:
        return
    member = call.conn.execute("SELECT 1 FROM memberships WHERE org_id = ? AND user_id = ?", (call.org_id, owner_id.lower())).fetchone()
    if member is None:
        raise ApiError(400, "owner_not_member", "owner_id is not a member of this organization.")


def placement(call: Call, pipeline_id: str, stage_id: str | None) -> tuple[str, str]:
    """The pipeline and stage a lead goes to: the given active stage, or the first active one."""
    pipeline = call.conn.execute("SELECT id FROM pipelines WHERE id = ? AND org_id = ?", (pipeline_id.lower(), call.org_id)).fetchone()
    if pipeline is None:
        raise not_found("pipeline")
    if stage_id is None:
        stage = call.conn.execute(
            "SELECT id FROM stages WHERE pipeline_id = ? AND archived_at IS NULL ORDER BY position LIMIT 1", (pipeline["id"],)
        ).fetchone()
        if stage is None:
            raise ApiError(409, "stage_archived", "The pipeline has no active stage.")
        return pipeline["id"], stage["id"]
    stage = call.conn.execute("SELECT id, archived_at FROM stages WHERE id = ? AND pipeline_id = ?", (stage_id.lower(), pipeline["id"])).fetchone()
    if stage is None:
        raise not_found("stage")
    if stage["archived_at"] is not None:
        raise ApiError(409, "stage_archived", "The stage is archived and accepts no new leads.")
    return pipeline["id"], stage["id"]


def insert_lead(call: Call, fields: dict[str, Any]) -> dict[str, Any]:
    """Create a lead from validated LeadCreate fields, emit `lead.created`, return it."""
    check_owner(call, fields.get("owner_id"))
    pipeline_id, stage_id = placement(call, fields["pipeline_id"], fields.get("stage_id"))
    stamp = now_iso()
    doc: dict[str, Any] = {"id": new_id(), "contact_name": fields["contact_name"]}
    doc.update({name: fields.get(name) for name in OPTIONAL_FIELDS})
    doc["owner_id"] = doc["owner_id"].lower() if doc["owner_id"] else None
    doc.update(
        pipeline_id=pipeline_id, stage_id=stage_id, tags=list(dict.fromkeys(fields.get("tags") or [])),
        custom_fields={k: v for k, v in (fields.get("custom_fields") or {}).items() if v is not None},
        created_at=stamp, updated_at=stamp,
    )
    _write(call.conn, call.org_id, doc, insert=True)
    # Rendered from the document just stored, not read back: a JSON round trip gives the same values.
    lead = _with_stage(call.conn, doc, stage_id)
    emit_event(call.conn, call.org_id, "lead.created", {"lead": lead})
    return lead


def _write(conn: sqlite3.Connection, org_id: str, doc: dict[str, Any], *, insert: bool) -> None:
    columns = (doc["pipeline_id"], doc["stage_id"], doc["owner_id"], (doc["email"] or "").lower() or None, doc["phone"], dumps_text(doc), doc["updated_at"])
    if insert:
        conn.execute(
            "INSERT INTO leads (pipeline_id, stage_id, owner_id, email, phone, doc, updated_at, id, org_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*columns, doc["id"], org_id, doc["created_at"]),
        )
    else:
        conn.execute(
            "UPDATE leads SET pipeline_id = ?, stage_id = ?, owner_id = ?, email = ?, phone = ?, doc = ?, updated_at = ? WHERE id = ?",
            (*columns, doc["id"]),
        )
        conn.execute("DELETE FROM lead_tags WHERE lead_id = ?", (doc["id"],))
    conn.executemany("INSERT INTO lead_tags (lead_id, tag) VALUES (?, ?)", [(doc["id"], tag) for tag in doc["tags"]])


@handles("listLeads")
def list_leads(call: Call) -> Result:
    q = call.query
    where, args = ["org_id = ?"], [call.org_id]
    for name in ("pipeline_id", "stage_id", "owner_id"):
        if q.get(name):
            where.append(f"{name} = ?")
            args.append(q[name].lower())
    if q.get("tag"):
        where.append("id IN (SELECT lead_id FROM lead_tags WHERE tag = ?)")
        args.append(q["tag"])
    if q.get("q"):
        where.append("(instr(lower(json_extract(doc, '$.contact_name')), ?) > 0 OR instr(lower(coalesce(json_extract(doc, '$.company_name'), '')), ?) > 0 OR instr(coalesce(email, ''), ?) > 0)")
        needle = q["q"].lower()
        args += [needle, needle, needle]
    # One page names few stages: each is looked up once (stage names cannot change mid-transaction).
    stage_names: dict[str, str] = {}
    return Result(filtered_page(
        call, "leads", where, args, lambda row: render_lead_for_page(call.conn, row, stage_names),
        time_fields=("created", "updated"), columns="id, created_at, stage_id, doc",
    ))


@handles("createLead")
def create_lead(call: Call) -> Result:
    lead = insert_lead(call, call.body)
    return Result(lead, headers=location(f"/leads/{lead['id']}"))


@handles("getLead")
def get_lead(call: Call) -> Result:
    return Result(render_lead(call.conn, lead_by_id(call, call.path["lead_id"])))


@handles("updateLead")
def update_lead(call: Call) -> Result:
    row = lead_by_id(call, call.path["lead_id"])
    doc = loads(row["doc"])
    changes = dict(call.body)
    if "owner_id" in changes:
        check_owner(call, changes["owner_id"])
        changes["owner_id"] = changes["owner_id"].lower() if changes["owner_id"] else None
    moving = "pipeline_id" in changes or "stage_id" in changes
    if moving:
        pipeline_id = changes.pop("pipeline_id", doc["pipeline_id"]).lower()
        # Another pipeline without a stage_id: the lead enters that pipeline's first active stage.
        default_stage = doc["stage_id"] if pipeline_id == doc["pipeline_id"] else None
        pipeline_id, stage_id = placement(call, pipeline_id, changes.pop("stage_id", default_stage))
        previous_stage = doc["stage_id"]
        doc.update(pipeline_id=pipeline_id, stage_id=stage_id)
    if "tags" in changes:
        changes["tags"] = list(dict.fromkeys(changes["tags"]))
    if "custom_fields" in changes:
        merged = {**doc.get("custom_fields", {}), **changes.pop("custom_fields")}
        doc["custom_fields"] = {k: v for k, v in merged.items() if v is not None}
    doc.update(changes)
    doc["updated_at"] = now_iso()
    _write(call.conn, call.org_id, doc, insert=False)
    if moving and doc["stage_id"] != previous_stage:
        from apollospace_refserver.operations.activities import record_activity

        record_activity(call, doc["id"], "stage_change", f"Moved to stage {doc['stage_id']}", actor={"type": "user", "id": call.user_id})
    return Result(render_lead(call.conn, call.conn.execute("SELECT * FROM leads WHERE id = ?", (doc["id"],)).fetchone()))


@handles("deleteLead")
def delete_lead(call: Call) -> Result:
    row = lead_by_id(call, call.path["lead_id"])
    call.conn.execute("DELETE FROM activities WHERE lead_id = ?", (row["id"],))
    call.conn.execute("DELETE FROM lead_tags WHERE lead_id = ?", (row["id"],))
    call.conn.execute("DELETE FROM leads WHERE id = ?", (row["id"],))
    return Result(status=204)
