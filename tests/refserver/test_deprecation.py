"""Deprecation on the wire: a deprecated operation of a test spec answers with Deprecation, Sunset and Link.

The test spec is the real one with listPipelines deprecated
(tests/spec/compat/deprecated_spec.py); the server reads it through
APOLLOSPACE_SPEC_DIR, like any spec it is given.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.refserver.conftest import FAST, LiveServer, start_server
from tests.spec.compat.deprecated_spec import (
    DEPRECATION_HEADER,
    LINK,
    SUNSET_HEADER,
    deprecated_spec_dir,
)


@pytest.fixture(scope="module")
def deprecated_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = deprecated_spec_dir(Path(tmp_path_factory.mktemp("deprecated")))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("APOLLOSPACE_SPEC_DIR", str(root))
        server = start_server(replace(FAST))
    yield server
    server.stop()


def test_a_deprecated_operation_sends_deprecation_sunset_and_link(deprecated_live: LiveServer) -> None:
    """GET /pipelines, deprecated in the test spec: Deprecation @<unix of announced> (RFC 9745), Sunset HTTP-date (RFC 8594), Link rel=deprecation."""
    with deprecated_live.client() as client:
        response = client.get("/pipelines")
    assert response.status_code == 200
    assert response.headers["Deprecation"] == DEPRECATION_HEADER
    assert response.headers["Sunset"] == SUNSET_HEADER
    assert response.headers["Link"] == f'<{LINK}>; rel="deprecation"'


def test_other_operations_send_no_deprecation_header(deprecated_live: LiveServer, live: LiveServer) -> None:
    """An operation the spec does not deprecate (listLeads) answers without them, and so does the real spec's listPipelines."""
    with deprecated_live.client() as client:
        response = client.get("/leads", params={"limit": 1})
    assert response.status_code == 200 and "deprecation" not in response.headers and "sunset" not in response.headers
    with live.client() as client:
        response = client.get("/pipelines")
    assert response.status_code == 200 and "deprecation" not in response.headers
