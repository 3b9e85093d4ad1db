"""Breaks /req/organization/header-required: a call without X-Organization-Id acts in the caller's first organization.

Most users belong to one organization, so the partner made the header
"optional" for convenience and falls back to the user's first membership.
"""

from __future__ import annotations

from apollospace_refserver.app import Dispatcher

_original = Dispatcher._membership


def _membership(self: Dispatcher, user_id: str, header: str | None) -> tuple[str, str]:
    if not header:
        with self.services.db.transaction() as conn:
            first = conn.execute("SELECT org_id FROM memberships WHERE user_id = ? ORDER BY rowid LIMIT 1", (user_id,)).fetchone()
        header = first["org_id"] if first is not None else header
    return _original(self, user_id, header)


def patch() -> None:
    Dispatcher._membership = _membership  # type: ignore[method-assign]
