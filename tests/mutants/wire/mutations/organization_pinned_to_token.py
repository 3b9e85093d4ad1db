"""Breaks /req/organization/member-only: a gateway replaces any well-formed X-Organization-Id with the caller's home organization.

Tenant pinning done wrong: instead of refusing a header that names another
organization, the gateway "corrects" it to the one the token belongs to. A
caller naming a foreign organization is served, in its own.
"""

from __future__ import annotations

from tests.mutants.wire.edits import UUID, bearer, home_organization
from tests.mutants.wire.exchange import Exchange


def request(exchange: Exchange) -> None:
    named = exchange.request_headers.get("x-organization-id", "")
    home = home_organization(exchange.memory["credentials"], bearer(exchange.request_headers))
    if UUID.match(named) and home is not None:
        exchange.request_headers["x-organization-id"] = home
