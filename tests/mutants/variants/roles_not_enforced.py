"""Breaks /req/organization/roles: roles are stored but never checked; a viewer can write like an owner.

The partner's first release had owners only; roles were added to the data
model and the UI, but the API never checks them.
"""

from __future__ import annotations

from apollospace_refserver.app import Dispatcher

_original = Dispatcher._membership


def _membership(self: Dispatcher, user_id: str, header: str | None) -> tuple[str, str]:
    org_id, _role = _original(self, user_id, header)
    return org_id, "owner"  # every member may do everything


def patch() -> None:
    Dispatcher._membership = _membership  # type: ignore[method-assign]
