"""Breaks /req/idempotency/key-reuse-conflict: the same key with a different body replays the first response instead of 409.

The partner keys stored responses by (caller, method, path) and the
Idempotency-Key only, never fingerprinting the body, so a client bug that
reuses a key silently gets an old answer and its new request is dropped.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from apollospace_refserver import app


def _fingerprint(user_id: str, method: str, path: str, body: Any) -> str:
    return hashlib.sha256(json.dumps([user_id, method, path]).encode("utf-8")).hexdigest()  # the body is not part of it


def patch() -> None:
    app.fingerprint = _fingerprint
