"""Find the requirement-traced suite: packaged into the wheel, or the repository's `conformance/`."""

from __future__ import annotations

from pathlib import Path

_PACKAGED = Path(__file__).parent / "suite"
_REPOSITORY = Path(__file__).resolve().parents[2] / "conformance"


def suite_root() -> Path:
    """The folder of the suite's pytest modules (the wheel's copy first, then an editable install's)."""
    if (_PACKAGED / "pytest.ini").is_file():
        return _PACKAGED
    return _REPOSITORY
