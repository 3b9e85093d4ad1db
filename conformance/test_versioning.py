"""Versioning: the public operations live under /v1."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from apollospace_conformance.checks import violation
from apollospace_conformance.http import KitClient
from apollospace_conformance.session import KitSession


@pytest.mark.requirement("/req/versioning/v1-prefix")
def test_operations_live_under_v1(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/versioning/v1-prefix (every public operation lives under /v1/).
    Test purpose: the base URL under certification is the /v1 prefix, and the list operations answer under it.
    Test method: 1. check the base URL's path ends in /v1 2. call every list operation without path parameters under it 3. expect 200.
    """
    path = urlparse(kit.settings.url).path.rstrip("/")
    if not path.endswith("/v1"):
        pytest.skip(f"the base URL {kit.settings.url} does not end in /v1; the kit cannot tell where the version prefix is")
    for operation in sorted((op for op in kit.spec.operations if op.is_list and "{" not in op.path), key=lambda op: op.path):
        exchange = api.get(operation.path, params={"limit": 1})
        if exchange.status not in (200, 403):  # 403: the role may not read this list; the prefix still routed it
            raise violation("/req/versioning/v1-prefix", f"{operation.operation_id} served under {path}", exchange.describe(), exchange)
