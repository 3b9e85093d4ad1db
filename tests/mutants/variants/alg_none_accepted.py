"""Breaks /req/auth/invalid-token: a token whose header says `alg: none` is accepted without any signature.

A hand-rolled verifier that takes the algorithm from the token's own header
instead of pinning RS256: the textbook JWT vulnerability.
"""

from __future__ import annotations

import jwt

from apollospace_refserver.auth import TokenAuthority

_original = TokenAuthority.verify


def _verify(self: TokenAuthority, authorization: str | None) -> str:
    token = (authorization or "").partition(" ")[2].strip()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        header = {}
    if str(header.get("alg", "")).lower() == "none":
        claims = jwt.decode(token, options={"verify_signature": False}, audience=self.audience, issuer=self.issuer)
        return str(claims["sub"])
    return _original(self, authorization)


def patch() -> None:
    TokenAuthority.verify = _verify  # type: ignore[method-assign]
