"""Lead imports: an asynchronous job, created `queued` and run by a worker.

The job (`lead_imports`, whose `request` holds its options and row count)
keeps its rows in `lead_import_rows` and one outcome per processed row in
`lead_import_results`.

The worker keeps one queue per organization (its unfinished jobs, oldest
first) and serves the organizations round-robin, one step each: one
organization's 5,000 queued rows delay another's import by one step, not by
5,000 rows. No step holds the database for more than one short batch.

A real import's step is one row in its own transaction: the row's effect (a
lead created or updated, its `lead.created` event) and the row's result
commit together or not at all, and the next row to process is the one after
the last stored result. A server killed mid-import therefore resumes where it
stopped, and no row is imported twice.

A dry run's step plays up to `DRY_RUN_BATCH` rows in one transaction, inside
a savepoint that is rolled back: duplicates are matched exactly as a real run
would (including against leads that earlier rows would create or update), but
only the results stay. What earlier batches would have written is kept in
`lead_import_dry_leads` and replayed into each batch's savepoint first.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace
from typing import Any

from apollospace_refserver.db import dumps, loads
from apollospace_refserver.errors import ApiError
from apollospace_refserver.fairness import RoundRobin
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
DRY_RUN_BATCH = 50  # rows a dry run plays per transaction
UNFINISHED = "status IN ('queued', 'running')"

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
class LeadImportWorker:
    """Serves the organizations' import queues round-robin, one step per tick."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.turns = RoundRobin()

    def tick(self) -> bool:
        return run_lead_imports(self.services, self.turns)

    def close(self) -> None:
        pass


def run_lead_imports(services: Services, turns: RoundRobin) -> bool:
    """Advance the oldest unfinished import of the organization whose turn it is by one step
    (a row; a dry run: a batch of rows); false when no import is unfinished."""
    job_id: str | None = None
    try:
        with services.db.transaction() as conn:
            waiting = [row["org_id"] for row in conn.execute(f"SELECT DISTINCT org_id FROM lead_imports WHERE {UNFINISHED}")]
            org_id = turns.take(waiting)
            if org_id is None:
                return False
            job = conn.execute(
                f"SELECT * FROM lead_imports WHERE {UNFINISHED} AND org_id = ? ORDER BY created_at, id LIMIT 1", (org_id,)
            ).fetchone()
            job_id = job["id"]
            call = _job_call(services, conn, job)
            if loads(job["request"])["dry_run"]:
                _dry_run(call, job)
            else:
                _import_next_row(call, job)
    except Exception:
        if job_id is None:
            raise
        # The failed step's transaction rolled back; earlier rows keep their outcome and effect.
        log.exception("lead import %s failed", job_id)
        with services.db.transaction() as conn:
            conn.execute("DELETE FROM lead_import_dry_leads WHERE import_id = ?", (job_id,))
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


def _next_index(conn: sqlite3.Connection, import_id: str) -> int:
    """The first row without a stored result."""
    return int(conn.execute("SELECT COALESCE(MAX(row_index) + 1, 0) FROM lead_import_results WHERE import_id = ?", (import_id,)).fetchone()[0])


def _import_next_row(call: Call, job: sqlite3.Row) -> None:
    request = loads(job["request"])
    index = _next_index(call.conn, job["id"])
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
    """Play the dry run's next batch of at most DRY_RUN_BATCH rows in a savepoint that is rolled back."""
    request = loads(job["request"])
    start = _next_index(call.conn, job["id"])
    rows = call.conn.execute(
        "SELECT doc FROM lead_import_rows WHERE import_id = ? AND row_index >= ? ORDER BY row_index LIMIT ?",
        (job["id"], start, DRY_RUN_BATCH),
    ).fetchall()
    outcomes: list[Outcome] = []
    touched: set[str] = set()
    created_here: set[str] = set()
    simulated: list[sqlite3.Row] = []
    call.conn.execute("SAVEPOINT lead_import_dry_run")
    failure: Exception | None = None
    try:
        docs = [loads(row["doc"]) for row in rows]
        created_here |= _replay(call.conn, job, docs)
        for doc in docs:
            outcomes.append(_process_row(call, request, doc, dry_run=True, created_here=created_here, touched=touched))
        simulated = call.conn.execute(
            "SELECT id, pipeline_id, stage_id, email, phone, created_at FROM leads WHERE id IN (SELECT value FROM json_each(?))",
            (dumps(sorted(touched)),),
        ).fetchall()
    except Exception as exc:  # a job-level failure: report the rows played so far
        failure = exc
    finally:
        call.conn.execute("ROLLBACK TO lead_import_dry_run")
        call.conn.execute("RELEASE lead_import_dry_run")
    for offset, outcome in enumerate(outcomes):
        _store_result(call.conn, job["id"], start + offset, outcome)
    call.conn.executemany(
        "INSERT OR REPLACE INTO lead_import_dry_leads (import_id, lead_id, stand_in, pipeline_id, stage_id, email, phone, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(job["id"], lead["id"], int(lead["id"] in created_here), lead["pipeline_id"], lead["stage_id"], lead["email"], lead["phone"], lead["created_at"])
         for lead in simulated],
    )
    stamp = now_iso()
    if failure is not None:
        log.error("dry-run lead import %s failed: %r", job["id"], failure)
    if failure is not None or start + len(outcomes) >= request["total"]:
        call.conn.execute("DELETE FROM lead_import_dry_leads WHERE import_id = ?", (job["id"],))
        _finish(call.conn, job["id"], "failed" if failure else "succeeded", stamp)
    else:
        call.conn.execute("UPDATE lead_imports SET status = 'running', updated_at = ? WHERE id = ?", (stamp, job["id"]))


def _replay(conn: sqlite3.Connection, job: sqlite3.Row, rows: list[dict[str, Any]]) -> set[str]:
    """Write, inside the savepoint, what the dry run's earlier batches simulated and `rows` can
    match; returns the ids of the stand-ins written.

    A row can only match (and so update) a lead with its email or phone, so the leads
    that matter are those whose simulated, or real, email or phone is one of the rows':
    the replay stays the size of a batch, however far the dry run is.
    """
    emails = dumps(sorted({email for row in rows if (email := (row.get("email") or "").lower())}))
    phones = dumps(sorted({phone for row in rows if (phone := row.get("phone"))}))
    relevant = conn.execute(  # four index lookups: simulated email, simulated phone, real email, real phone
        "SELECT d.* FROM lead_import_dry_leads d WHERE d.import_id = :job AND d.email IN (SELECT value FROM json_each(:emails))"
        " UNION SELECT d.* FROM lead_import_dry_leads d WHERE d.import_id = :job AND d.phone IN (SELECT value FROM json_each(:phones))"
        " UNION SELECT d.* FROM leads l JOIN lead_import_dry_leads d ON d.import_id = :job AND d.lead_id = l.id"
        "  WHERE l.org_id = :org AND l.email IN (SELECT value FROM json_each(:emails))"
        " UNION SELECT d.* FROM leads l JOIN lead_import_dry_leads d ON d.import_id = :job AND d.lead_id = l.id"
        "  WHERE l.org_id = :org AND l.phone IN (SELECT value FROM json_each(:phones))",
        {"job": job["id"], "org": job["org_id"], "emails": emails, "phones": phones},
    ).fetchall()
    stand_ins = [lead for lead in relevant if lead["stand_in"]]
    conn.executemany(
        "INSERT INTO leads (id, org_id, pipeline_id, stage_id, owner_id, email, phone, doc, created_at, updated_at) VALUES (?, ?, ?, ?, NULL, ?, ?, '{}', ?, ?)",
        [(lead["lead_id"], job["org_id"], lead["pipeline_id"], lead["stage_id"], lead["email"], lead["phone"], lead["created_at"], lead["created_at"]) for lead in stand_ins],
    )
    conn.executemany(
        "UPDATE leads SET email = ?, phone = ? WHERE id = ? AND org_id = ?",
        [(lead["email"], lead["phone"], lead["lead_id"], job["org_id"]) for lead in relevant if not lead["stand_in"]],
    )
    return {lead["lead_id"] for lead in stand_ins}


def _process_row(
    call: Call, request: dict[str, Any], row: dict[str, Any], *, dry_run: bool, created_here: set[str], touched: set[str] | None = None
) -> Outcome:
    """Apply (or, in a dry run, simulate) one row; return its outcome. A dry run adds the
    stand-ins it creates to `created_here`, and them and the leads it changes to `touched`."""
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
            if touched is not None:
                touched.add(match)
            return "would_update", reported, None
        update_lead(replace(call, path={"lead_id": match}, body=dict(row)))
        return "updated", match, None
    fields = {**row, "pipeline_id": request["pipeline_id"]}
    if dry_run:
        pipeline_id, stage_id = placement(call, request["pipeline_id"], None)
        stand_in = _simulate_create(call.conn, call.org_id, pipeline_id, stage_id, row)
        created_here.add(stand_in)
        if touched is not None:
            touched.add(stand_in)
        return "would_create", None, None
    lead = insert_lead(replace(call, body=fields), fields)
    return "created", lead["id"], None


def find_duplicate(conn: sqlite3.Connection, org_id: str, row: dict[str, Any]) -> tuple[str | None, bool]:
    """The lead a row duplicates (by email, case-insensitively, else by phone), and whether
    its email and phone match two different leads. The oldest lead wins a tie."""
    email = (row.get("email") or "").lower() or None
    phone = row.get("phone") or None
    by_email = _oldest_first(conn, "SELECT id, created_at FROM leads WHERE org_id = ? AND email = ?", (org_id, email)) if email else []
    by_phone = _oldest_first(conn, "SELECT id, created_at FROM leads WHERE org_id = ? AND phone = ?", (org_id, phone)) if phone else []
    if by_email:
        both = [lead_id for lead_id in by_email if lead_id in by_phone]
        return (both or by_email)[0], bool(by_phone) and not both
    return (by_phone[0] if by_phone else None), False


def _oldest_first(conn: sqlite3.Connection, query: str, args: tuple[str, str]) -> list[str]:
    """The ids `query` selects, oldest first. Sorted here, not in SQL: with an ORDER BY,
    SQLite walks the organization's whole `leads_by_org` index instead of the email or phone one."""
    return [row["id"] for row in sorted(conn.execute(query, args).fetchall(), key=lambda row: (row["created_at"], row["id"]))]


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
