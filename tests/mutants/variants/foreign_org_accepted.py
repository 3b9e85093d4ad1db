"""Breaks /req/organization/member-only: an X-Organization-Id the caller is not a member of is ignored; the call acts in the caller's own organization.

The partner resolves the organization from the token and treats the header as
a hint, so a wrong header "just works" instead of being refused.
"""

from __future__ import annotations

from apollospace_refserver.app import Dispatcher
from apollospace_refserver.errors import ApiError

_original = Dispatcher._membership


def _membership(self: Dispatcher, user_id: str, header: str | None) -> tuple[str, str]:
    try:
        return _original(self, user_id, header)
    except ApiError as refused:
        if refused.code != "organization_forbidden":
            raise
        with self.services.db.transaction() as conn:
            own = conn.execute("SELECT org_id FROM memberships WHERE user_id = ? ORDER BY rowid LIMIT 1", (user_id,)).fetchone()
        if own is None:
            raise
        return _original(self, user_id, own["org_id"])


def patch() -> None:
    Dispatcher._membership = _membership  # type: ignore[method-assign]
