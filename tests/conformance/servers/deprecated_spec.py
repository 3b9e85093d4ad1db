"""A correct server of a spec that deprecates listPipelines: it sends Deprecation, Sunset and Link on it.

The kit reads the same test spec: serve.py hands APOLLOSPACE_SPEC_DIR to it
through the credentials file.
"""

from __future__ import annotations

import os

from apollospace_refserver import Settings
from tests.spec.compat.deprecated_spec import deprecated_spec_dir


def configure(settings: Settings) -> Settings:
    os.environ["APOLLOSPACE_SPEC_DIR"] = str(deprecated_spec_dir())
    return settings
