"""Pipelines and their stages: list, get, create; add, rename, archive and reorder stages.

Role gating (owners and admins configure pipelines) comes from the spec's
`x-apollospace-roles`, applied by the dispatcher.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from apollospace_refserver.errors import ApiError, not_found
from apollospace_refserver.handlers import Call, Result, handles
from apollospace_refserver.ids import new_id
from apollospace_refserver.operations.common import fetch_owned, location
from apollospace_refserver.pagination import PageQuery, fetch_page, scope_of
from apollospace_refserver.seed import DEFAULT_STAGES
from apollospace_refserver.timeutil import now_iso

MAX_STAGES = 30


def render_stage(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "position": row["position"],
        "archived": row["archived_at"] is not None,
        "archived_at": row["archived_at"],
    }


def stages_of(conn: sqlite3.Connection, pipeline_id: str) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM stages WHERE pipeline_id = ? ORDER BY position, id", (pipeline_id,)).fetchall()


def render_pipeline(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "stages": [render_stage(stage) for stage in stages_of(conn, row["id"])],
        "is_default": bool(row["is_default"]),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def pipeline_by_id(call: Call, pipeline_id: str) -> sqlite3.Row:
    return fetch_owned(call.conn, "pipelines", "pipeline", pipeline_id, call.org_id)


def stage_by_id(call: Call, pipeline: sqlite3.Row, stage_id: str) -> sqlite3.Row:
    """A stage of `pipeline`; one of another pipeline (or organization) is a 404 like a missing one."""
    row = call.conn.execute("SELECT * FROM stages WHERE id = ? AND pipeline_id = ?", (stage_id.lower(), pipeline["id"])).fetchone()
    if row is None:
        raise not_found("stage")
    return row


def _touch(call: Call, pipeline_id: str, stamp: str) -> None:
    call.conn.execute("UPDATE pipelines SET updated_at = ? WHERE id = ?", (stamp, pipeline_id))


def _stage_row(call: Call, stage_id: str) -> sqlite3.Row:
    return call.conn.execute("SELECT * FROM stages WHERE id = ?", (stage_id,)).fetchone()


@handles("listPipelines")
def list_pipelines(call: Call) -> Result:
    q = call.query
    page = fetch_page(
        call.conn, call.services.cursors, scope_of("listPipelines", call.org_id, {}),
        PageQuery("FROM pipelines", ["org_id = ?"], [call.org_id], "created_at", descending=False),
        q.get("cursor"), q.get("limit"), lambda row: render_pipeline(call.conn, row),
    )
    return Result(page)


@handles("getPipeline")
def get_pipeline(call: Call) -> Result:
    return Result(render_pipeline(call.conn, pipeline_by_id(call, call.path["pipeline_id"])))


@handles("createPipeline")
def create_pipeline(call: Call) -> Result:
    names = [stage["name"] for stage in call.body["stages"]] if "stages" in call.body else list(DEFAULT_STAGES)
    stamp = now_iso()
    pipeline_id = new_id()
    call.conn.execute(
        "INSERT INTO pipelines (id, org_id, name, is_default, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?)",
        (pipeline_id, call.org_id, call.body["name"], stamp, stamp),
    )
    call.conn.executemany(
        "INSERT INTO stages (id, pipeline_id, org_id, name, position, archived_at, created_at) VALUES (?, ?, ?, ?, ?, NULL, ?)",
        [(new_id(), pipeline_id, call.org_id, name, position, stamp) for position, name in enumerate(names)],
    )
    pipeline = render_pipeline(call.conn, pipeline_by_id(call, pipeline_id))
    return Result(pipeline, headers=location(f"/pipelines/{pipeline_id}"))


@handles("createPipelineStage")
def create_pipeline_stage(call: Call) -> Result:
    pipeline = pipeline_by_id(call, call.path["pipeline_id"])
    count = call.conn.execute("SELECT COUNT(*) FROM stages WHERE pipeline_id = ?", (pipeline["id"],)).fetchone()[0]
    position = call.body.get("position", count)
    if position > count:
        raise ApiError(400, "stage_position_out_of_range", f"position may be at most {count}, the pipeline's number of stages.")
    if count >= MAX_STAGES:
        raise ApiError(409, "stage_limit_reached", f"A pipeline holds at most {MAX_STAGES} stages, archived ones included.")
    stamp = now_iso()
    stage_id = new_id()
    call.conn.execute("UPDATE stages SET position = position + 1 WHERE pipeline_id = ? AND position >= ?", (pipeline["id"], position))
    call.conn.execute(
        "INSERT INTO stages (id, pipeline_id, org_id, name, position, archived_at, created_at) VALUES (?, ?, ?, ?, ?, NULL, ?)",
        (stage_id, pipeline["id"], call.org_id, call.body["name"], position, stamp),
    )
    _touch(call, pipeline["id"], stamp)
    return Result(render_stage(_stage_row(call, stage_id)), headers=location(f"/pipelines/{pipeline['id']}/stages/{stage_id}"))


@handles("updatePipelineStage")
def update_pipeline_stage(call: Call) -> Result:
    pipeline = pipeline_by_id(call, call.path["pipeline_id"])
    stage = stage_by_id(call, pipeline, call.path["stage_id"])
    if call.body["name"] != stage["name"]:
        call.conn.execute("UPDATE stages SET name = ? WHERE id = ?", (call.body["name"], stage["id"]))
        _touch(call, pipeline["id"], now_iso())
    return Result(render_stage(_stage_row(call, stage["id"])))


@handles("archivePipelineStage")
def archive_pipeline_stage(call: Call) -> Result:
    pipeline = pipeline_by_id(call, call.path["pipeline_id"])
    stage = stage_by_id(call, pipeline, call.path["stage_id"])
    if stage["archived_at"] is not None:
        return Result(render_stage(stage))
    others = call.conn.execute(
        "SELECT COUNT(*) FROM stages WHERE pipeline_id = ? AND archived_at IS NULL AND id != ?", (pipeline["id"], stage["id"])
    ).fetchone()[0]
    if others == 0:
        raise ApiError(409, "last_active_stage", "This is the pipeline's last active stage; a pipeline keeps at least one.")
    stamp = now_iso()
    call.conn.execute("UPDATE stages SET archived_at = ? WHERE id = ?", (stamp, stage["id"]))
    _touch(call, pipeline["id"], stamp)
    return Result(render_stage(_stage_row(call, stage["id"])))


@handles("reorderPipelineStages")
def reorder_pipeline_stages(call: Call) -> Result:
    pipeline = pipeline_by_id(call, call.path["pipeline_id"])
    current = [row["id"] for row in stages_of(call.conn, pipeline["id"])]
    wanted = [stage_id.lower() for stage_id in call.body["stage_ids"]]
    if len(wanted) != len(current) or set(wanted) != set(current):
        raise ApiError(
            400, "stage_order_not_permutation",
            f"stage_ids must list each of the pipeline's {len(current)} stages, archived ones included, exactly once.",
        )
    if wanted != current:
        call.conn.executemany("UPDATE stages SET position = ? WHERE id = ?", list(enumerate(wanted)))
        _touch(call, pipeline["id"], now_iso())
    return Result(render_pipeline(call.conn, pipeline_by_id(call, pipeline["id"])))
