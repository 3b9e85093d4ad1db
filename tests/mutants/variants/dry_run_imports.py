"""Breaks /req/leads/import-dry-run: a dry-run import really imports its rows (and reports real outcomes).

The job stores `dry_run` and shows it back, but the worker's dry-run branch
was lost in a refactor: the flag is validated and echoed, never acted on, so
a customer previewing a 10,000-row file imports it.
"""

from __future__ import annotations

from apollospace_refserver.operations import imports


def patch() -> None:
    imports._dry_run = imports._import_next_row  # the worker runs a dry-run job like a real one
