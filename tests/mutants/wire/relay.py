"""How the proxy also sits between the server and the kit's webhook receiver.

A subscription created through the proxy with a loopback `url` (the kit's
receiver) is stored by the server with a relay URL on the proxy instead:
`http://127.0.0.1:<proxy>/_wire/relay/http/127.0.0.1:<receiver>/<path>`. The
server delivers there, the proxy forwards the delivery (mutated or not) to the
receiver, and answers the server with the receiver's answer. Responses carry
the original URL back, so the kit never sees the relay.

The proxy also learns every signing secret the server shows (on create and on
rotation), so a mutation that edits a delivery can sign it again: then only
the edit is wrong, not the signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import time
from typing import Any
from urllib.parse import urlsplit

from apollospace_conformance.receiver import secret_key, signature_entries
from tests.mutants.wire.exchange import Exchange

RELAY_PREFIX = "/_wire/relay/"
SECRETS = "webhook-secrets"  # memory key: every secret the server has shown, oldest first


# --- relay URLs ------------------------------------------------------------------------


def is_loopback_url(url: Any) -> bool:
    """True for an http(s) URL whose host is a loopback address or `localhost`."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def relay_url(proxy_origin: str, target: str) -> str:
    """The URL on the proxy that relays to `target`."""
    scheme, _, rest = target.partition("://")
    return f"{proxy_origin}{RELAY_PREFIX}{scheme}/{rest}"


def relay_target(path_and_query: str) -> str | None:
    """The target a relay path stands for, or None when it is not a relay path."""
    if not path_and_query.startswith(RELAY_PREFIX):
        return None
    scheme, _, rest = path_and_query[len(RELAY_PREFIX):].partition("/")
    return f"{scheme}://{rest}" if scheme in ("http", "https") and rest else None


def unrelay(value: Any, proxy_origin: str) -> Any:
    """`value` with every relay URL in it replaced by the URL it stands for."""
    prefix = proxy_origin + RELAY_PREFIX
    if isinstance(value, str) and value.startswith(prefix):
        return relay_target(value[len(proxy_origin):]) or value
    if isinstance(value, dict):
        return {key: unrelay(item, proxy_origin) for key, item in value.items()}
    if isinstance(value, list):
        return [unrelay(item, proxy_origin) for item in value]
    return value


# --- secrets and signatures ------------------------------------------------------------


def learn_secrets(exchange: Exchange) -> None:
    """Remember the secret of a subscription create or a rotation the server just answered."""
    body = exchange.response_json if 200 <= exchange.status < 300 else None
    secret = body.get("secret") if isinstance(body, dict) else None
    if isinstance(secret, str) and secret not in exchange.memory.setdefault(SECRETS, []):
        exchange.memory[SECRETS].append(secret)


def _sign(secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    content = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(secret_key(secret), content, hashlib.sha256).digest()).decode("ascii")


def resign(delivery: Exchange, *, webhook_id: str | None = None, timestamp: int | None = None) -> None:
    """Sign the delivery again after an edit: each v1 entry with the secret that made it, over the new id, timestamp and body.

    The delivery's headers still carry the original id and timestamp, and the
    exchange keeps the body as the server sent it. An entry made with a secret
    the proxy never saw is left as it was.
    """
    headers = delivery.request_headers
    original_body = delivery.original_request_body
    old_id, old_stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    new_id = webhook_id if webhook_id is not None else old_id
    new_stamp = str(timestamp) if timestamp is not None else old_stamp
    entries = []
    for entry in signature_entries(headers.get("webhook-signature", "")):
        maker = next((s for s in delivery.memory.get(SECRETS, []) if hmac.compare_digest(_sign(s, old_id, old_stamp, original_body), entry)), None)
        entries.append(_sign(maker, new_id, new_stamp, delivery.request_body) if maker else entry)
    headers["webhook-id"], headers["webhook-timestamp"] = new_id, new_stamp
    headers["webhook-signature"] = " ".join(entries)


def now() -> int:
    return int(time.time())
