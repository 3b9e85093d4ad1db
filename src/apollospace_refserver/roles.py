"""Who may act in which organization: the caller's role, remembered until the tables change.

Every request looks up its user and the user's role in the organization it
names (about 5% of a create's CPU under wrk). Users and memberships change
rarely, so the answer is kept per (user, organization) and forgotten whenever
either table is written: a temporary trigger on each calls back into this
cache from inside the writing statement, under the database lock. A write
that rolls back has cleared the cache too, which only costs a lookup, and
nothing read inside an open transaction is kept. The
server owns its database file; another process writing these tables is not
seen (none does: the seed runs in the server at start-up).
"""

from __future__ import annotations

from apollospace_refserver.db import Database

MAX_ENTRIES = 4096  # distinct (user, organization) pairs remembered; all forgotten when full


class RoleCache:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._known: dict[tuple[str, str | None], tuple[bool, str | None]] = {}
        with db.reading() as conn:
            conn.create_function("apollospace_roles_changed", 0, self._forget, deterministic=False)
            for table in ("users", "memberships"):
                for event in ("INSERT", "UPDATE", "DELETE"):
                    conn.execute(
                        f"CREATE TEMP TRIGGER IF NOT EXISTS {table}_{event.lower()}_forgets_roles "
                        f"AFTER {event} ON main.{table} BEGIN SELECT apollospace_roles_changed(); END"
                    )

    def lookup(self, user_id: str, org_id: str | None) -> tuple[bool, str | None]:
        """(whether the user exists, the user's role in `org_id` or None)."""
        key = (user_id, org_id)
        with self._db.reading() as conn:  # under the lock: no write can run between lookup and store
            found = self._known.get(key)
            if found is not None:
                return found
            row = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM users WHERE id = ?) AS known, (SELECT role FROM memberships WHERE org_id = ? AND user_id = ?) AS role",
                (user_id, org_id, user_id),
            ).fetchone()
            found = (bool(row["known"]), row["role"])
            if not conn.in_transaction:  # an open transaction may still roll back what it read
                if len(self._known) >= MAX_ENTRIES:
                    self._known.clear()
                self._known[key] = found
            return found

    def _forget(self) -> None:
        self._known.clear()
