"""Breaks /req/leads/import-job: one row whose owner is not a member fails the whole job instead of only its own row.

No per-row error handling: the import loop lets the first validation error
escape, the job ends `failed`, and the rows after it get no result at all.
"""

from __future__ import annotations

from apollospace_refserver.operations import imports


def patch() -> None:
    imports.ROW_ERRORS = ()  # owner_not_member is no longer a row's own failure
