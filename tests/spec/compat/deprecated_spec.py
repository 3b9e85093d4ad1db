"""A test spec: a copy of spec/ in which listPipelines is deprecated, for the live and kit tests of the headers.

Built from the real tree at run time (no second copy of any schema is kept).
The server and the kit each read it through APOLLOSPACE_SPEC_DIR.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

from apollospace_spec.locate import spec_root

OPERATION_ID = "listPipelines"
PATH = "/pipelines"
ANNOUNCED = dt.date(2026, 9, 1)
SUNSET = dt.date(2027, 3, 1)
LINK = "https://docs.apollospace.ai/changelog#listpipelines-deprecated"
# What the reference server must answer for those dates.
DEPRECATION_HEADER = "@1788220800"
SUNSET_HEADER = "Mon, 01 Mar 2027 00:00:00 GMT"


def deprecated_spec_dir(folder: Path | None = None) -> Path:
    """Write the copy under `folder` (a fresh temporary folder by default) and return its spec root."""
    target = (folder or Path(tempfile.mkdtemp(prefix="apollospace-deprecated-spec-"))) / "spec"
    shutil.copytree(spec_root(), target, ignore=shutil.ignore_patterns("releases"))
    path_file = target / "paths" / "pipelines.yaml"
    text = path_file.read_text("utf-8")
    marker = f"  operationId: {OPERATION_ID}\n"
    assert text.count(marker) == 1, f"{path_file} no longer defines {OPERATION_ID} once"
    extension = f'  deprecated: true\n  x-apollospace-deprecation: {{announced: "{ANNOUNCED}", sunset: "{SUNSET}", link: "{LINK}"}}\n'
    path_file.write_text(text.replace(marker, marker + extension), "utf-8")
    return target
