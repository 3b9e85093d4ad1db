"""Breaks /req/pipelines/reorder-permutation: a partial stage order is accepted, the stages left out keep their order after the listed ones.

"Lenient" reordering is a common design (move these to the front, keep the
rest): a client that sends a stale or truncated list gets 200 and a board
order it never asked for, instead of a 400 that tells it to re-read the stages.
"""

from __future__ import annotations

from dataclasses import replace

from apollospace_refserver.handlers import HANDLERS, Call, Result
from apollospace_refserver.operations import pipelines

_original = pipelines.reorder_pipeline_stages


def _reorder(call: Call) -> Result:
    pipeline = pipelines.pipeline_by_id(call, call.path["pipeline_id"])
    listed = list(dict.fromkeys(stage_id.lower() for stage_id in call.body["stage_ids"]))  # a repeated id counts once
    rest = [row["id"] for row in pipelines.stages_of(call.conn, pipeline["id"]) if row["id"] not in listed]
    return _original(replace(call, body={**call.body, "stage_ids": listed + rest}))


def patch() -> None:
    HANDLERS["reorderPipelineStages"] = _reorder
