"""Breaks /req/organization/header-required: a gateway fills in a missing X-Organization-Id with the caller's home organization.

"Most users have one organization": the gateway looks the caller up by token
and adds the header when the client left it out, so a call that names no
organization is served instead of refused.
"""

from __future__ import annotations

from tests.mutants.wire.edits import bearer, home_organization
from tests.mutants.wire.exchange import Exchange


def request(exchange: Exchange) -> None:
    home = home_organization(exchange.memory["credentials"], bearer(exchange.request_headers))
    if "x-organization-id" not in exchange.request_headers and home is not None:
        exchange.request_headers["x-organization-id"] = home
