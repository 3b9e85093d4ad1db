"""Breaks /req/pagination/invalid-cursor-400: a cursor that is not base64 JSON crashes the server (500) instead of a 400.

The partner decodes the cursor before checking its signature, and nothing
catches the decoding error, so garbage becomes an internal error.
"""

from __future__ import annotations

import base64
import json

from apollospace_refserver.pagination import CursorCodec

_original = CursorCodec.decode


def _decode(self: CursorCodec, scope: str, cursor: str) -> list:  # type: ignore[type-arg]
    payload = cursor.partition(".")[0]
    json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # raises on garbage: a 500
    return _original(self, scope, cursor)


def patch() -> None:
    CursorCodec.decode = _decode  # type: ignore[method-assign]
