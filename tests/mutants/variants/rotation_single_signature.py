"""Breaks /req/webhooks/rotation-overlap: after a rotation, deliveries are signed with the new secret only, even during the overlap.

The partner stores the previous secret and its expiry (and returns
`previous_secret_expires_at`) but the signer only ever reads the current
secret, so receivers still configured with the old one reject every delivery
until they are updated.
"""

from __future__ import annotations

import sqlite3

from apollospace_refserver import webhook_delivery


def _signing_secrets(row: sqlite3.Row, at: str) -> tuple[str, ...]:
    return (row["secret"],)


def patch() -> None:
    webhook_delivery.signing_secrets = _signing_secrets
