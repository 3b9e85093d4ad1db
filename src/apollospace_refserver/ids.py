"""Version 4 UUIDs: random for new resources, stable for seed data."""

from __future__ import annotations

import hashlib
import uuid


def new_id() -> str:
    return str(uuid.uuid4())


def stable_id(name: str) -> str:
    """A v4-shaped UUID derived from `name`, so seed ids are the same on every machine."""
    return str(uuid.UUID(bytes=hashlib.sha256(name.encode("utf-8")).digest()[:16], version=4))
