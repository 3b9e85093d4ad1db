"""Standard Webhooks signing: secrets, `v1` signatures and their verification.

A secret is `whsec_` + base64 of 32 random bytes; the HMAC key is the decoded
part. A signature is `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`;
`webhook-signature` lists one per signing secret, separated by spaces.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping

PREFIX = "whsec_"
SECRET_BYTES = 32
TOLERANCE_SECONDS = 5 * 60


class SignatureError(ValueError):
    """A delivery that does not verify: missing headers, stale timestamp or no match."""


def new_secret() -> str:
    """A fresh secret in the Standard Webhooks format."""
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of `secret`: the base64-decoded part after `whsec_`."""
    encoded = secret[len(PREFIX) :] if secret.startswith(PREFIX) else secret
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise ValueError("not a whsec_ secret") from exc


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64 HMAC-SHA256>` entry for `{msg_id}.{timestamp}.{body}`."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(
    signing_secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes
) -> str:
    """The `webhook-signature` value: one entry per secret, space-separated."""
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in signing_secrets)


def delivery_headers(
    signing_secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(signing_secrets, msg_id, timestamp, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    """Raise SignatureError unless a `v1` entry is `secret`'s and the timestamp is fresh."""
    lowered = {key.lower(): value for key, value in headers.items()}
    msg_id, stamp, header = (
        lowered.get(name) for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
    )
    if not msg_id or not stamp or not header:
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError as exc:
        raise SignatureError("webhook-timestamp is not an integer") from exc
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise SignatureError("webhook-timestamp is too far from now")
    expected = sign(secret, msg_id, timestamp, body).partition(",")[2].encode("ascii")
    for entry in header.split(" "):
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode("ascii", "replace"), expected):
            return
    raise SignatureError("no signature matches the secret")
