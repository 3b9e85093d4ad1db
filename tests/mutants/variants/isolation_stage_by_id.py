"""Breaks /req/organization/foreign-resource-404: a stage is looked up by its id alone, once the pipeline in the path is the caller's.

The pipeline check guards the door, but the stage query forgot its
`pipeline_id` condition: any organization can rename or archive another
organization's stage by naming one of its own pipelines in the path.
"""

from __future__ import annotations

import sqlite3

from apollospace_refserver.errors import not_found
from apollospace_refserver.handlers import Call
from apollospace_refserver.operations import pipelines


def _stage_by_id(call: Call, pipeline: sqlite3.Row, stage_id: str) -> sqlite3.Row:
    row = call.conn.execute("SELECT * FROM stages WHERE id = ?", (stage_id.lower(),)).fetchone()
    if row is None:
        raise not_found("stage")
    return row


def patch() -> None:
    pipelines.stage_by_id = _stage_by_id  # updatePipelineStage and archivePipelineStage call it by its module name
