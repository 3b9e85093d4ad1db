"""Breaks /req/pipelines/stage-lifecycle: a lead can be created in (or moved into) an archived stage.

Archiving only hides the stage's column on the board; the API's check is
"does the stage belong to the pipeline", so integrations holding an old stage
id keep filling a stage nobody sees.
"""

from __future__ import annotations

from apollospace_refserver.errors import ApiError
from apollospace_refserver.handlers import Call
from apollospace_refserver.operations import leads

_original = leads.placement


def _placement(call: Call, pipeline_id: str, stage_id: str | None) -> tuple[str, str]:
    try:
        return _original(call, pipeline_id, stage_id)
    except ApiError as error:
        if error.code != "stage_archived" or stage_id is None:
            raise
        return pipeline_id.lower(), stage_id.lower()  # the stage exists in the pipeline: good enough


def patch() -> None:
    leads.placement = _placement
