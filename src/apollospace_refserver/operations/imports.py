"""Lead imports: an asynchronous job, created `queued` and run by a worker.

The job (`lead_imports`, whose `request` holds its options and row count)
keeps its rows in `lead_import_rows` and one outcome per processed row in
`lead_import_results`.

A real import commits each row in its own transaction: the row's effect (a
lead created or updated, its `lead.created` event) and the row's result
commit together or not at all, and the next row to process is the one after
the last stored result. A server killed mid-import therefore resumes where it
stopped, and no row is imported twice.

A dry run is played in one transaction inside a savepoint that is rolled
back: duplicates are matched exactly as a real run would (including against
leads that earlier rows would create or update), but only the results stay.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace
from typing import Any

from apollospace_refserver.db import dumps, loads
from apollospace_refserver.errors import ApiError
from apollospace_refserver.handlers import Call, Result, handles
from apollospace_refserver.ids import new_id
from apollospace_refserver.operations.common import fetch_owned, location
from apollospace_refserver.operations.leads import check_owner, insert_lead, placement, update_lead
from apollospace_refserver.services import Services
from apollospace_refserver.timeutil import now_iso
from apollospace_refserver.workers import worker

log = logging.getLogger("apollospace_refserver.imports")

# Which count each outcome adds to: a dry run's would_* outcomes count as their real ones.
COUNTED = {
    "created": "created", "would_create": "created",
    "updated": "updated", "would_update": "updated",
    "skipped": "skipped", "would_skip": "skipped",
    "failed": "failed",
}
# A row's own failures; any other error stops the job (status `failed`).
ROW_ERRORS = ("owner_not_member",)

Outcome = tuple[str, str | None, dict[str, str] | None]  # (outcome, lead_id, error)


def render_import(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    request = loads(row["request"])
    counts = {"total": request["total"], "created": 0, "updated": 0, "skipped": 0, "failed": 0}
    results = []
    for result in conn.execute("SELECT * FROM lead_import_results WHERE import_id = ? ORDER BY row_index", (row["id"],)):
        counts[COUNTED[result["outcome"]]] += 1
        results.append({"row_index": result["row_index"], "outcome": result["outcome"], "lead_id": result["lead_id"], "error": loads(result["error"])})
    return {
        "id": row["id"],
        "status": row["status"],
        "dry_run": request["dry_run"],
        "duplicate_policy": request["duplicate_policy"],
        "pipeline_id": request["pipeline_id"],
        "counts": counts,
        "results": results,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "completed_at": row["completed_at"],
    }


@handles("createLeadImport")
def create_lead_import(call: Call) -> Result:
    body = call.body
    pipeline = fetch_owned(call.conn, "pipelines", "pipeline", body["pipeline_id"], call.org_id)
    request = {
        "pipeline_id": pipeline["id"],
        "dry_run": bool(body.get("dry_run", False)),
        "duplicate_policy": body.get("duplicate_policy", "skip"),
        "total": len(body["rows"]),
    }
    stamp = now_iso()
    import_id = new_id()
    call.conn.execute(
        "INSERT INTO lead_imports (id, org_id, status, request, created_by, created_at, updated_at, completed_at) VALUES (?, ?, 'queued', ?, ?, ?, ?, NULL)",
        (import_id, call.org_id, dumps(request), call.user_id, stamp, stamp),
    )
    call.conn.executemany(
        "INSERT INTO lead_import_rows (import_id, row_index, doc) VALUES (?, ?, ?)",
        [(import_id, index, dumps(row)) for index, row in enumerate(body["rows"])],
    )
    job = render_import(call.conn, fetch_owned(call.conn, "lead_imports", "import", import_id, call.org_id))
    return Result(job, headers=location(f"/lead-imports/{import_id}"))


@handles("getLeadImport")
def get_lead_import(call: Call) -> Result:
    return Result(render_import(call.conn, fetch_owned(call.conn, "lead_imports", "import", call.path["import_id"], call.org_id)))


# --- the worker -------------------------------------------------------------------


@worker("lead-imports")
def run_lead_imports(services: Services) -> bool:
    """Advance the oldest unfinished import by one row (a dry run: by all its rows)."""
    job_id: str | None = None
    try:
        with services.db.transaction() as conn:
            job = conn.execute(
                "SELECT * FROM lead_imports WHERE status IN ('queued', 'running') ORDER BY created_at, id LIMIT 1"
            ).fetchone()
            if job is None:
                return False
            job_id = job["id"]
            call = _job_call(services, conn, job)
            if loads(job["request"])["dry_run"]:
                _dry_run(call, job)
            else:
                _import_next_row(call, job)
    except Exception:
        if job_id is None:
            raise
        # The failed row's transaction rolled back; earlier rows keep their outcome and effect.
        log.exception("lead import %s failed", job_id)
        with services.db.transaction() as conn:
            _finish(conn, job_id, "failed", now_iso())
    return True


def _job_call(services: Services, conn: sqlite3.Connection, job: sqlite3.Row) -> Call:
    """A Call on behalf of the job's creator, so the leads surface's functions apply unchanged."""
    member = conn.execute("SELECT role FROM memberships WHERE org_id = ? AND user_id = ?", (job["org_id"], job["created_by"])).fetchone()
    return Call(
        services=services, conn=conn, operation=services.contract.by_id["createLeadImport"],
        org_id=job["org_id"], user_id=job["created_by"], role=member["role"] if member else "member",
        path={}, query={}, body=None, request_id=f"lead-import:{job['id']}",
    )


def _import_next_row(call: Call, job: sqlite3.Row) -> None:
    request = loads(job["request"])
    index = call.conn.execute("SELECT COALESCE(MAX(row_index) + 1, 0) FROM lead_import_results WHERE import_id = ?", (job["id"],)).fetchone()[0]
    if index >= request["total"]:  # every row has its result: only the finish is missing
        _finish(call.conn, job["id"], "succeeded", now_iso())
        return
    row = call.conn.execute("SELECT doc FROM lead_import_rows WHERE import_id = ? AND row_index = ?", (job["id"], index)).fetchone()
    outcome = _process_row(call, request, loads(row["doc"]), dry_run=False, created_here=set())
    stamp = now_iso()
    _store_result(call.conn, job["id"], index, outcome)
    if index + 1 >= request["total"]:
        _finish(call.conn, job["id"], "succeeded", stamp)
    else:
        call.conn.execute("UPDATE lead_imports SET status = 'running', updated_at = ? WHERE id = ?", (stamp, job["id"]))


def _dry_run(call: Call, job: sqlite3.Row) -> None:
    request = loads(job["request"])
    outcomes: list[Outcome] = []
    created_here: set[str] = set()
    call.conn.execute("SAVEPOINT lead_import_dry_run")
    failure: Exception | None = None
    try:
        for row in call.conn.execute("SELECT doc FROM lead_import_rows WHERE import_id = ? ORDER BY row_index", (job["id"],)).fetchall():
            outcomes.append(_process_row(call, request, loads(row["doc"]), dry_run=True, created_here=created_here))
    except Exception as exc:  # a job-level failure: report the rows played so far
        failure = exc
    finally:
        call.conn.execute("ROLLBACK TO lead_import_dry_run")
        call.conn.execute("RELEASE lead_import_dry_run")
    for index, outcome in enumerate(outcomes):
        _store_result(call.conn, job["id"], index, outcome)
    if failure is not None:
        log.error("dry-run lead import %s failed: %r", job["id"], failure)
    _finish(call.conn, job["id"], "failed" if failure else "succeeded", now_iso())


def _process_row(call: Call, request: dict[str, Any], row: dict[str, Any], *, dry_run: bool, created_here: set[str]) -> Outcome:
    """Apply (or, in a dry run, simulate) one row; return its outcome."""
    policy = request["duplicate_policy"]
    match, ambiguous = (None, False) if policy == "create" else find_duplicate(call.conn, call.org_id, row)
    reported = None if match in created_here else match
    if match is not None and policy == "skip":
        return ("would_skip" if dry_run else "skipped"), reported, None
    if match is not None and ambiguous:
        return "failed", None, {
            "code": "ambiguous_duplicate",
            "message": "The row's email and phone match two different leads; nothing was updated.",
        }
    try:
        check_owner(call, row.get("owner_id"))
    except ApiError as error:
        if error.code not in ROW_ERRORS:
            raise
        return "failed", None, {"code": error.code, "message": error.message}
    if match is not None:  # duplicate_policy: update
        if dry_run:
            _simulate_update(call.conn, match, row)
            return "would_update", reported, None
        update_lead(replace(call, path={"lead_id": match}, body=dict(row)))
        return "updated", match, None
    fields = {**row, "pipeline_id": request["pipeline_id"]}
    if dry_run:
        pipeline_id, stage_id = placement(call, request["pipeline_id"], None)
        created_here.add(_simulate_create(call.conn, call.org_id, pipeline_id, stage_id, row))
        return "would_create", None, None
    lead = insert_lead(replace(call, body=fields), fields)
    return "created", lead["id"], None


def find_duplicate(conn: sqlite3.Connection, org_id: str, row: dict[str, Any]) -> tuple[str | None, bool]:
    """The lead a row duplicates (by email, case-insensitively, else by phone), and whether
    its email and phone match two different leads. The oldest lead wins a tie."""
    email = (row.get("email") or "").lower() or None
    phone = row.get("phone") or None
    by_email = [r["id"] for r in conn.execute(
        "SELECT id FROM leads WHERE org_id = ? AND email = ? ORDER BY created_at, id", (org_id, email))] if email else []
    by_phone = [r["id"] for r in conn.execute(
        "SELECT id FROM leads WHERE org_id = ? AND phone = ? ORDER BY created_at, id", (org_id, phone))] if phone else []
    if by_email:
        both = [lead_id for lead_id in by_email if lead_id in by_phone]
        return (both or by_email)[0], bool(by_phone) and not both
    return (by_phone[0] if by_phone else None), False


def _simulate_create(conn: sqlite3.Connection, org_id: str, pipeline_id: str, stage_id: str, row: dict[str, Any]) -> str:
    """A stand-in lead (rolled back with the dry run) that later rows can match."""
    lead_id, stamp = new_id(), now_iso()
    conn.execute(
        "INSERT INTO leads (id, org_id, pipeline_id, stage_id, owner_id, email, phone, doc, created_at, updated_at) VALUES (?, ?, ?, ?, NULL, ?, ?, '{}', ?, ?)",
        (lead_id, org_id, pipeline_id, stage_id, (row.get("email") or "").lower() or None, row.get("phone"), stamp, stamp),
    )
    return lead_id


def _simulate_update(conn: sqlite3.Connection, lead_id: str, row: dict[str, Any]) -> None:
    """What an update changes that matters to later rows: the lead's email and phone."""
    if "email" in row:
        conn.execute("UPDATE leads SET email = ? WHERE id = ?", ((row["email"] or "").lower() or None, lead_id))
    if "phone" in row:
        conn.execute("UPDATE leads SET phone = ? WHERE id = ?", (row["phone"], lead_id))


def _store_result(conn: sqlite3.Connection, import_id: str, index: int, outcome: Outcome) -> None:
    name, lead_id, error = outcome
    conn.execute(
        "INSERT INTO lead_import_results (import_id, row_index, outcome, lead_id, error) VALUES (?, ?, ?, ?, ?)",
        (import_id, index, name, lead_id, None if error is None else dumps(error)),
    )


def _finish(conn: sqlite3.Connection, import_id: str, status: str, stamp: str) -> None:
    conn.execute("UPDATE lead_imports SET status = ?, updated_at = ?, completed_at = ? WHERE id = ?", (status, stamp, stamp, import_id))
