"""Standard Webhooks signatures, the contract's signing scheme: the one implementation in this project.

The reference server signs its deliveries with it, the kit verifies them with
it, the docs sign their examples with it. The HMAC itself is the
`standardwebhooks` package's; this module adds what the package leaves out:
signing the exact body bytes (the package's `sign` takes text and re-encodes
it), the index of each matching entry of a `webhook-signature` header (key
rotation), and reasons a reader can act on when a delivery does not verify.
tests/conformance/test_webhook_signing.py proves it agrees with the package.

A secret is `whsec_` + base64 of 32 random bytes; the HMAC key is the decoded
part. A signature is `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`;
`webhook-signature` lists one per signing secret, separated by spaces.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping

from standardwebhooks.webhooks import hmac_data

PREFIX = "whsec_"
SECRET_BYTES = 32
TOLERANCE_SECONDS = 5 * 60
HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


class SignatureError(ValueError):
    """A delivery that does not verify: missing headers, a stale timestamp, or no matching entry."""


def new_secret() -> str:
    """A fresh secret in the Standard Webhooks format."""
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of `secret`: the base64-decoded part after `whsec_`."""
    encoded = secret.removeprefix(PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError(f"the secret is not `whsec_` + base64: {exc}") from None


def sign(secret: str, msg_id: str, timestamp: str | int, body: bytes) -> str:
    """One `v1,<base64 HMAC-SHA256>` entry for `{msg_id}.{timestamp}.{body}`, over the body's exact bytes."""
    digest = hmac_data(secret_key(secret), f"{msg_id}.{timestamp}.".encode() + body)
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_entries(header: str) -> list[str]:
    """The space-separated entries of a `webhook-signature` header."""
    return [entry for entry in header.split(" ") if entry]


def matching_entries(secret: str, headers: Mapping[str, str], body: bytes) -> list[int]:
    """Indexes of the `v1` entries of `webhook-signature` that `secret` produced (constant-time compare)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    msg_id, stamp, header = (lowered.get(name, "") for name in HEADERS)
    expected = sign(secret, msg_id, stamp, body).encode("ascii")
    return [index for index, entry in enumerate(signature_entries(header))
            if entry.startswith("v1,") and hmac.compare_digest(entry.encode("ascii", "replace"), expected)]


def verify(secret: str, headers: Mapping[str, str], body: bytes, *, now: float | None = None, tolerance: int = TOLERANCE_SECONDS) -> None:
    """Raise SignatureError unless a `v1` entry is `secret`'s and the timestamp is within `tolerance` of now."""
    lowered = {key.lower(): value for key, value in headers.items()}
    missing = [name for name in HEADERS if not lowered.get(name)]
    if missing:
        raise SignatureError(f"missing header(s) {', '.join(missing)}")
    stamp = lowered["webhook-timestamp"]
    if not stamp.isdigit():
        raise SignatureError(f"webhook-timestamp {stamp!r} is not whole seconds since the epoch")
    drift = abs((time.time() if now is None else now) - int(stamp))
    if drift > tolerance:
        raise SignatureError(f"webhook-timestamp {stamp} is {drift:.0f} s away from the receiver's clock (tolerance {tolerance} s)")
    if not matching_entries(secret, lowered, body):
        raise SignatureError(f"no v1 entry of webhook-signature {lowered['webhook-signature']!r} is the HMAC-SHA256 of id.timestamp.body with the secret")


def signature_header(signing_secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: one entry per secret, space-separated."""
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in signing_secrets)
