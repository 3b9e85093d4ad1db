"""The one Standard Webhooks implementation agrees with the `standardwebhooks` package, and nothing signs webhooks twice."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from apollospace_spec.webhook_signing import (
    SignatureError,
    matching_entries,
    new_secret,
    secret_key,
    sign,
    verify,
)

SRC = Path(__file__).resolve().parents[2] / "src"


def test_signatures_agree_with_the_package_both_ways() -> None:
    secret = new_secret()
    assert len(secret_key(secret)) == 32
    body = '{"id":"évt","type":"lead.created"}'.encode()
    stamp, msg_id = int(time.time()), str(uuid.uuid4())
    ours = sign(secret, msg_id, stamp, body)
    theirs = Webhook(secret).sign(msg_id, datetime.fromtimestamp(stamp, tz=UTC), body.decode())
    assert ours == theirs
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(stamp), "webhook-signature": f"v1,bm9wZQ== {ours}"}
    assert Webhook(secret).verify(body, headers) == {"id": "évt", "type": "lead.created"}
    verify(secret, headers, body)
    assert matching_entries(secret, headers, body) == [1]


def test_verification_names_what_is_wrong() -> None:
    secret, body, stamp = new_secret(), b"{}", int(time.time())
    headers = {"webhook-id": "m1", "webhook-timestamp": str(stamp), "webhook-signature": sign(secret, "m1", stamp, body)}
    with pytest.raises(SignatureError, match="no v1 entry"):
        verify(new_secret(), headers, body)
    with pytest.raises(SignatureError, match="away from the receiver's clock"):
        verify(secret, {**headers, "webhook-timestamp": str(stamp - 600)}, body)
    with pytest.raises(SignatureError, match="missing header"):
        verify(secret, {"webhook-id": "m1"}, body)
    with pytest.raises(SignatureError, match="not `whsec_` \\+ base64"):
        secret_key("whsec_not base64!")


def test_signs_exact_bytes_that_are_not_text() -> None:
    """The server signs the bytes it sends; a body that is not UTF-8 still gets (and verifies with) a signature."""
    secret, body = new_secret(), b"\xff\xfe not utf-8"
    headers = {"webhook-id": "m", "webhook-timestamp": "1700000000", "webhook-signature": sign(secret, "m", 1700000000, body)}
    verify(secret, headers, body, now=1700000000)


def test_no_second_copy_of_webhook_signing() -> None:
    """`hmac.new` appears in src/ only for what is not webhook signing (the reference server's pagination cursors)."""
    found = [f"{path.relative_to(SRC)}:{number}" for path in SRC.rglob("*.py")
             for number, line in enumerate(path.read_text("utf-8").splitlines(), 1) if re.search(r"\bhmac\.new\(", line)]
    assert found == ["apollospace_refserver/pagination.py:37"] or all("pagination" in where for where in found), found
