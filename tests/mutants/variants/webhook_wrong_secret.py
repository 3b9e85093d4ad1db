"""Breaks /req/webhooks/signature: deliveries are signed with the whole `whsec_...` string as the HMAC key instead of its base64-decoded bytes.

Standard Webhooks keys the HMAC with the decoded part after `whsec_`; passing
the secret string straight to `hmac.new(secret.encode(), ...)` is the most
common way to get it wrong, and the partner's own verifier (written the same
way) agrees with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from apollospace_refserver import webhook_signing


def _sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    content = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(secret.encode(), content, hashlib.sha256).digest()).decode("ascii")


def patch() -> None:
    webhook_signing.sign = _sign  # signature_header, used for every attempt, looks it up here
