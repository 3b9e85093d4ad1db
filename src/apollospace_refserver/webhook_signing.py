"""Standard Webhooks signing for the server's deliveries: the contract's one implementation, apollospace_spec.webhook_signing.

`signature_header` looks `sign` up in this module, so a broken variant can
replace the server's signing alone (tests/mutants/variants/webhook_wrong_secret.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from apollospace_spec.webhook_signing import (
    PREFIX,
    SECRET_BYTES,
    TOLERANCE_SECONDS,
    SignatureError,
    new_secret,
    secret_key,
    sign,
    verify,
)

__all__ = ["PREFIX", "SECRET_BYTES", "TOLERANCE_SECONDS", "SignatureError", "delivery_headers", "new_secret", "secret_key",
           "sign", "signature_header", "verify"]


def signature_header(signing_secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: one entry per secret, space-separated."""
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in signing_secrets)


def delivery_headers(signing_secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(signing_secrets, msg_id, timestamp, body),
    }
