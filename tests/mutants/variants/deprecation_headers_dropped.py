"""Breaks /req/versioning/deprecation-headers: a deprecated operation answers without Deprecation, Sunset and Link.

The partner's gateway forwards only the headers it knows, so clients of a
deprecated operation never learn that it goes away. Served with a test spec
that deprecates listPipelines (the kit reads the same spec).
"""

from __future__ import annotations

import os

from apollospace_refserver import Settings
from tests.mutants.asgi import ASGIApp, Exchange, rewrite_responses
from tests.spec.compat.deprecated_spec import deprecated_spec_dir


def configure(settings: Settings) -> Settings:
    # serve.py passes the spec folder on to the kit through the credentials file.
    os.environ["APOLLOSPACE_SPEC_DIR"] = str(deprecated_spec_dir())
    return settings


def _transform(exchange: Exchange) -> None:
    for name in ("deprecation", "sunset", "link"):
        exchange.headers.pop(name, None)


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_responses(app, _transform)
