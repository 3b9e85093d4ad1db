"""RoleCache answers as the tables do, whatever was written since it last looked."""

from __future__ import annotations

import pytest

from apollospace_refserver.db import Database
from apollospace_refserver.roles import RoleCache

ORG, USER = "org-1", "user-1"


@pytest.fixture
def db() -> Database:
    db = Database(":memory:")
    with db.transaction() as conn:
        conn.execute("INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)", (ORG, "Acme", "2026-01-01T00:00:00Z"))
        conn.execute("INSERT INTO users (id, name, email) VALUES (?, ?, ?)", (USER, "Ada", "ada@example.com"))
        conn.execute("INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, ?)", (ORG, USER, "member"))
    return db


def test_role_follows_every_write(db: Database) -> None:
    roles = RoleCache(db)
    assert roles.lookup(USER, ORG) == (True, "member")
    assert roles.lookup(USER, None) == (True, None)
    assert roles.lookup("nobody", ORG) == (False, None)
    with db.transaction() as conn:
        conn.execute("UPDATE memberships SET role = 'owner' WHERE user_id = ?", (USER,))
    assert roles.lookup(USER, ORG) == (True, "owner")
    with db.transaction() as conn:
        conn.execute("DELETE FROM memberships WHERE user_id = ?", (USER,))
    assert roles.lookup(USER, ORG) == (True, None)
    with db.transaction() as conn:
        conn.execute("INSERT INTO users (id, name, email) VALUES (?, ?, ?)", ("nobody", "New", "new@example.com"))
    assert roles.lookup("nobody", ORG) == (True, None)
    with db.transaction() as conn:
        conn.execute("DELETE FROM users WHERE id = ?", (USER,))
    assert roles.lookup(USER, ORG) == (False, None)


def test_a_rolled_back_write_leaves_the_old_answer(db: Database) -> None:
    roles = RoleCache(db)
    assert roles.lookup(USER, ORG) == (True, "member")
    with pytest.raises(RuntimeError), db.transaction() as conn:
        conn.execute("UPDATE memberships SET role = 'owner' WHERE user_id = ?", (USER,))
        assert roles.lookup(USER, ORG) == (True, "owner")  # inside the transaction: its own write
        raise RuntimeError("rolled back")
    assert roles.lookup(USER, ORG) == (True, "member")
