"""Breaks /req/identifiers/invalid-path-id: a path id that is not a UUID crashes the server (500) instead of a 400 or 404.

The partner passes the path id straight to a `uuid` database column, and the
database's "invalid input syntax for type uuid" error is never caught.
"""

from __future__ import annotations

import uuid
from typing import Any

from apollospace_refserver import app

_original = app.validate_request


def _validate_request(op: Any, path_params: dict[str, str], *args: Any) -> Any:
    for value in path_params.values():
        uuid.UUID(value)  # ValueError on "abc" or "123": an internal error
    return _original(op, path_params, *args)


def patch() -> None:
    app.validate_request = _validate_request
