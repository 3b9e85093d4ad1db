"""Breaks /req/auth/invalid-token: a gateway reads who the caller is from the token's claims without checking its signature, and calls the server as that user.

"We only need the user id": the gateway base64-decodes the JWT payload,
takes `sub`, and forwards with that user's own session token. A forged
signature or an `alg: none` token then acts as the user it names.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from tests.mutants.wire.edits import bearer
from tests.mutants.wire.exchange import Exchange


def _claims(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        claims: Any = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return {}
    return claims if isinstance(claims, dict) else {}


def request(exchange: Exchange) -> None:
    token = bearer(exchange.request_headers)
    claims = _claims(token) if token else {}
    sessions = {person["user_id"]: person["token"] for person in exchange.memory["credentials"].get("users", [])}
    unexpired = isinstance(claims.get("exp"), int | float) and claims["exp"] > time.time()  # the one claim it does check
    if claims.get("sub") in sessions and unexpired:
        exchange.request_headers["authorization"] = f"Bearer {sessions[claims['sub']]}"
