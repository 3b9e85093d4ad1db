"""Breaks /req/versioning/v1-prefix: the Pipelines routes are mounted at /pipelines, without the /v1 prefix.

A router added late and registered on the application root instead of the
versioned sub-application: `/pipelines` answers, `/v1/pipelines` is a 404.
"""

from __future__ import annotations

from tests.mutants.asgi import ASGIApp, Scope, rewrite_requests

PREFIX = "/v1/pipelines"


def _transform(scope: Scope) -> None:
    path = scope["path"]
    if path == PREFIX or path.startswith(PREFIX + "/"):
        scope["path"] = "/unrouted" + path  # what the versioned app sees: nothing mounted there
    elif path == "/pipelines" or path.startswith("/pipelines/"):
        scope["path"] = "/v1" + path


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_requests(app, _transform)
