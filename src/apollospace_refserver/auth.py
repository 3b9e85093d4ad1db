"""Bearer JWTs like production: RS256 id tokens, checked for signature, issuer, audience, expiry and `token_use`."""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from apollospace_refserver.errors import ApiError

ALGORITHM = "RS256"
# The contract's bearer token is the `id_token` (spec: components.securitySchemes.bearerAuth):
# an access token of the same identity provider, signed by the same key, is refused.
TOKEN_USE = "id"
VERIFIED_CACHE_SIZE = 4096  # distinct valid tokens remembered; a gateway's verified-token cache


@dataclass(frozen=True)
class SigningKeys:
    private_pem: bytes
    public_pem: bytes

    @classmethod
    def generate(cls) -> SigningKeys:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        return cls(private_pem, public_pem)

    @classmethod
    def load_or_create(cls, folder: Path) -> SigningKeys:
        """The server's key pair, kept in `folder` so tokens survive restarts."""
        private_path = folder / "jwt-signing-key.pem"
        if private_path.is_file():
            private_pem = private_path.read_bytes()
            key = serialization.load_pem_private_key(private_pem, password=None)
            public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            return cls(private_pem, public_pem)
        keys = cls.generate()
        folder.mkdir(parents=True, exist_ok=True)
        # Created 0600 from the first byte (no window in which the key is world-readable).
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(keys.private_pem)
        return keys


class TokenAuthority:
    """Mints and verifies the bearer tokens of one server."""

    def __init__(self, keys: SigningKeys, issuer: str, audience: str) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self._public_key = serialization.load_pem_public_key(keys.public_pem)  # parsed once, not per request
        # token -> (subject, exp) of tokens that passed every check. The signature,
        # issuer and audience of a token never change, so a repeat only re-checks
        # the expiry; an expired one goes through the full decode again (and its 401).
        self._verified: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def mint(self, user_id: str, *, ttl_seconds: int = 8 * 3600, expired: bool = False, token_use: str = TOKEN_USE) -> str:
        issued = int(time.time()) - (2 * ttl_seconds if expired else 0)
        claims = {"iss": self.issuer, "aud": self.audience, "sub": user_id, "iat": issued, "exp": issued + ttl_seconds, "token_use": token_use}
        return jwt.encode(claims, self.keys.private_pem, algorithm=ALGORITHM)

    def verify(self, authorization: str | None) -> str:
        """The user id of a valid `Authorization: Bearer` header, or a 401 ApiError."""
        if not authorization:
            raise ApiError(401, "unauthenticated", "A bearer token is required: Authorization: Bearer <token>.")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "unauthenticated", "The Authorization header must be 'Bearer <token>'.")
        with self._lock:
            known = self._verified.get(token)
            if known is not None:
                self._verified.move_to_end(token)
        if known is not None and time.time() < known[1]:
            return known[0]
        subject, expires = self._decode(token)
        with self._lock:
            self._verified[token] = (subject, expires)
            if len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return subject

    def _decode(self, token: str) -> tuple[str, float]:
        """Every check of the token: the subject and expiry of a valid one, or a 401 ApiError."""
        try:
            claims = jwt.decode(
                token,
                self._public_key,
                algorithms=[ALGORITHM],  # pins the algorithm: `alg: none` and HS256 confusion are refused
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud", "token_use"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise ApiError(401, "token_expired", "The bearer token has expired; renew it with the refresh token.") from exc
        except jwt.PyJWTError as exc:
            raise ApiError(401, "unauthenticated", "The bearer token is not valid.") from exc
        if claims.get("token_use") != TOKEN_USE:
            raise ApiError(401, "unauthenticated", "The bearer token is not an id token (token_use must be 'id').")
        subject = claims.get("sub")
        if not isinstance(subject, str):
            raise ApiError(401, "unauthenticated", "The bearer token names no user.")
        return subject, float(claims["exp"])
