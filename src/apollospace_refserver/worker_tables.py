"""Tables and indexes the background workers add to `db.SCHEMA`, created when the server starts.

- `deliveries_due_by_org`: the delivery dispatcher asks, per organization,
  for its due deliveries; with the global `deliveries_due` index alone, one
  organization's thousands of due deliveries would be scanned for every other.
- `lead_import_dry_leads`: a dry run plays its rows in short batches, each in
  its own transaction rolled back to a savepoint; the leads its earlier batches
  would have created (stand-ins) or changed are kept here, and those a batch's
  rows can match (by email or phone) are replayed into its savepoint, so later
  rows match them as a real run would.
"""

from __future__ import annotations

from apollospace_refserver.db import Database

STATEMENTS = (
    "CREATE INDEX IF NOT EXISTS deliveries_due_by_org ON deliveries (org_id, status, next_attempt_at)",
    "CREATE TABLE IF NOT EXISTS lead_import_dry_leads ("
    " import_id TEXT NOT NULL, lead_id TEXT NOT NULL, stand_in INTEGER NOT NULL, pipeline_id TEXT NOT NULL,"
    " stage_id TEXT NOT NULL, email TEXT, phone TEXT, created_at TEXT NOT NULL, PRIMARY KEY (import_id, lead_id))",
    "CREATE INDEX IF NOT EXISTS lead_import_dry_leads_by_email ON lead_import_dry_leads (import_id, email)",
    "CREATE INDEX IF NOT EXISTS lead_import_dry_leads_by_phone ON lead_import_dry_leads (import_id, phone)",
)


def create_worker_tables(db: Database) -> None:
    with db.transaction() as conn:
        for statement in STATEMENTS:
            conn.execute(statement)
