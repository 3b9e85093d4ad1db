"""Breaks /req/auth/bearer-required: GET /pipelines is served without a bearer token, for whatever organization the header names.

The partner registered one route without the auth middleware (it was meant
for an internal dashboard), so it answers anyone who knows an organization id.
"""

from __future__ import annotations

from typing import Any

from tests.mutants.asgi import ASGIApp, Scope, rewrite_requests


def wrap(app: Any) -> ASGIApp:
    services = app.state.services

    def _let_in(scope: Scope) -> None:
        headers = dict(scope["headers"])
        if scope["method"] != "GET" or scope["path"].rstrip("/") != "/v1/pipelines" or b"authorization" in headers:
            return
        org_id = headers.get(b"x-organization-id", b"").decode("latin-1").strip().lower()
        with services.db.transaction() as conn:
            row = conn.execute("SELECT user_id FROM memberships WHERE org_id = ? ORDER BY role = 'owner' DESC LIMIT 1", (org_id,)).fetchone()
        if row is not None:  # the route acts as the organization's owner: no token was ever asked for
            token = services.tokens.mint(row["user_id"])
            scope["headers"] = [*scope["headers"], (b"authorization", f"Bearer {token}".encode("latin-1"))]

    return rewrite_requests(app, _let_in)
