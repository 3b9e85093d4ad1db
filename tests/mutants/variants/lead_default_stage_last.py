"""Breaks /req/leads/default-stage: a lead created without stage_id enters the pipeline's last active stage instead of the first.

`ORDER BY position DESC LIMIT 1` (or `max(position)`) where `ASC` was meant:
with a pipeline whose last stage is "Closed-Lost", every lead an integration
creates without a stage is lost on arrival.
"""

from __future__ import annotations

from apollospace_refserver.handlers import Call
from apollospace_refserver.operations import leads

_original = leads.placement


def _placement(call: Call, pipeline_id: str, stage_id: str | None) -> tuple[str, str]:
    pipeline, stage = _original(call, pipeline_id, stage_id)
    if stage_id is None:
        last = call.conn.execute(
            "SELECT id FROM stages WHERE pipeline_id = ? AND archived_at IS NULL ORDER BY position DESC LIMIT 1", (pipeline,)
        ).fetchone()
        stage = last["id"]
    return pipeline, stage


def patch() -> None:
    leads.placement = _placement
