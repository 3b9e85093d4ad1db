"""Breaks /req/auth/invalid-token: the token's signature is never checked; only its issuer, audience and expiry are.

`jwt.decode(token, options={"verify_signature": False})`: the partner assumed
a gateway in front had verified the token, and it had not.
"""

from __future__ import annotations

import jwt

from apollospace_refserver.auth import TokenAuthority
from apollospace_refserver.errors import ApiError

_original = TokenAuthority.verify


def _verify(self: TokenAuthority, authorization: str | None) -> str:
    token = (authorization or "").partition(" ")[2].strip()
    try:
        claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": True}, audience=self.audience, issuer=self.issuer)
    except jwt.PyJWTError:
        return _original(self, authorization)  # the usual 401s for garbage and expired tokens
    if not isinstance(claims.get("sub"), str):
        raise ApiError(401, "unauthenticated", "The bearer token names no user.")
    return str(claims["sub"])


def patch() -> None:
    TokenAuthority.verify = _verify  # type: ignore[method-assign]
