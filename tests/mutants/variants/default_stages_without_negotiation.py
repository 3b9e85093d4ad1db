"""Breaks /req/pipelines/default-stages: a new pipeline gets six default stages, without "Negotiation".

The partner's defaults come from its own product, whose board never had a
negotiation column, instead of the seven stages the contract lists.
"""

from __future__ import annotations

from apollospace_refserver.operations import pipelines


def patch() -> None:
    pipelines.DEFAULT_STAGES = tuple(name for name in pipelines.DEFAULT_STAGES if name != "Negotiation")
