"""Breaks /req/auth/expired-token: an expired bearer token is still served.

The partner turned off expiry checking (`verify_exp: False`) while debugging
clock skew and never turned it back on.
"""

from __future__ import annotations

import jwt

from apollospace_refserver.auth import ALGORITHM, TokenAuthority
from apollospace_refserver.errors import ApiError

_original = TokenAuthority.verify


def _verify(self: TokenAuthority, authorization: str | None) -> str:
    try:
        return _original(self, authorization)
    except ApiError as refused:
        if refused.code != "token_expired" or authorization is None:
            raise
        token = authorization.partition(" ")[2].strip()
        claims = jwt.decode(token, self.keys.public_pem, algorithms=[ALGORITHM], audience=self.audience, issuer=self.issuer,
                            options={"verify_exp": False})
        return str(claims["sub"])


def patch() -> None:
    TokenAuthority.verify = _verify  # type: ignore[method-assign]
