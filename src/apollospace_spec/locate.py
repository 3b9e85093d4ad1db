"""Find the hand-written spec: packaged beside this module, or in the repository."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGED = Path(__file__).parent / "spec"
_REPOSITORY = Path(__file__).resolve().parents[2] / "spec"


def spec_root() -> Path:
    """The folder holding `openapi.yaml` and `requirements.yaml`.

    `APOLLOSPACE_SPEC_DIR` wins (tests point it at broken copies); then the copy
    packaged into the wheel; then the repository's `spec/` (editable installs).
    """
    override = os.environ.get("APOLLOSPACE_SPEC_DIR")
    if override:
        return Path(override)
    if (_PACKAGED / "openapi.yaml").is_file():
        return _PACKAGED
    return _REPOSITORY
