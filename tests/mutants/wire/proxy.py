"""The mutating reverse proxy: an ASGI app that forwards to the real server with httpx.

Every API call is read whole, handed to the mutation's `request` hook,
forwarded (unless the hook answered), and the answer handed to its `response`
hook before it goes back. Webhook subscriptions are pointed at the proxy's
relay (see relay.py), so deliveries pass through the `delivery` and
`delivery_answer` hooks on their way to the kit's receiver. With no mutation
the traffic goes through unchanged, byte for byte, but for hop-by-hop headers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote

import httpx

from tests.mutants.wire.exchange import Exchange
from tests.mutants.wire.mutations import Hook, Mutation
from tests.mutants.wire.relay import (
    RELAY_PREFIX,
    is_loopback_url,
    learn_secrets,
    relay_target,
    relay_url,
    unrelay,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Headers that belong to one connection, not to the message (RFC 9110 section 7.6.1), and the
# ones httpx sets itself: the length is recomputed, the body is relayed decoded.
_NOT_FORWARDED = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding",
                  "upgrade", "host", "content-length", "content-encoding", "accept-encoding"}
IDEMPOTENT_METHODS = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}
UPSTREAM_TIMEOUT_SECONDS = 60.0  # longer than the kit's own timeout: a slow answer is the kit's to judge
log = logging.getLogger(__name__)


def _headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in raw:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        if key not in _NOT_FORWARDED:
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def _query(exchange: Exchange) -> str:
    return f"?{exchange.query}" if exchange.query else ""


class WireProxy:
    """Forwards `/v1/...` to `upstream` (the server's origin) and relays webhook deliveries, through one mutation."""

    def __init__(self, upstream: str, origin: str, mutation: Mutation, memory: dict[str, Any] | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.origin = origin.rstrip("/")  # how the server and the kit reach the proxy
        self.mutation = mutation
        self.memory: dict[str, Any] = memory if memory is not None else {}
        self.memory["proxy-origin"] = self.origin
        self.client: httpx.AsyncClient | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        exchange = Exchange(method=scope["method"], path=scope["path"], query=scope.get("query_string", b"").decode("latin-1"),
                            request_headers=_headers(scope.get("headers", [])), request_body=bytes(body), memory=self.memory)
        raw_path = scope.get("raw_path") or scope["path"].encode()
        try:
            if scope["path"].startswith(RELAY_PREFIX):
                await self._relay(exchange)
            else:
                await self._forward(exchange, raw_path.decode("latin-1"))
        except Exception as exc:  # the proxy's own fault shows as a 502, logged for whoever reads the run's folder
            log.exception("wire proxy: %s %s failed", exchange.method, exchange.path)
            exchange.answer(502, f"wire proxy: {type(exc).__name__}".encode(), {"content-type": "text/plain"})
        await self._send(exchange, send)

    # --- API calls --------------------------------------------------------------------
    async def _forward(self, exchange: Exchange, raw_path: str) -> None:
        self._point_subscriptions_at_relay(exchange)
        original_path = exchange.path
        self._run(self.mutation.request, exchange)
        if not exchange.answered:
            path = raw_path if exchange.path == original_path else quote(exchange.path)
            await self._send_upstream(exchange, f"{self.upstream}{path}{_query(exchange)}")
            learn_secrets(exchange)
            self._hide_relay(exchange)
        self._run(self.mutation.response, exchange)

    def _point_subscriptions_at_relay(self, exchange: Exchange) -> None:
        """A subscription to a loopback URL (the kit's receiver) is stored with the proxy's relay URL instead."""
        if not exchange.path.startswith("/v1/webhooks") or exchange.method not in ("POST", "PATCH", "PUT"):
            return
        body = exchange.request_json
        if isinstance(body, dict) and is_loopback_url(body.get("url")):
            exchange.request_json = {**body, "url": relay_url(self.origin, body["url"])}

    def _hide_relay(self, exchange: Exchange) -> None:
        if (self.origin + RELAY_PREFIX).encode() in exchange.response_body:
            exchange.response_json = unrelay(exchange.response_json, self.origin)

    # --- webhook deliveries -----------------------------------------------------------
    async def _relay(self, exchange: Exchange) -> None:
        self._run(self.mutation.delivery, exchange)
        if not exchange.answered:
            target = relay_target(exchange.path)
            if target is None or not is_loopback_url(target):  # the relay never reaches beyond loopback
                exchange.answer(404, b"", {})
            else:
                await self._send_upstream(exchange, f"{target}{_query(exchange)}")
        self._run(self.mutation.delivery_answer, exchange)

    # --- plumbing ---------------------------------------------------------------------
    async def _send_upstream(self, exchange: Exchange, url: str) -> None:
        assert self.client is not None, "the proxy's client starts with the app's lifespan"
        headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in exchange.request_headers.items()]
        headers.append((b"accept-encoding", b"identity"))  # bytes as received: httpx would encode text as ASCII only
        for attempt in range(2):
            try:
                response = await self.client.request(exchange.method, url, headers=headers, content=exchange.request_body)
                break
            except (httpx.ReadError, httpx.RemoteProtocolError):
                # A pooled connection the server closed as it was reused: what any gateway retries, for a request that is safe to repeat.
                if attempt or exchange.method not in IDEMPOTENT_METHODS:
                    raise
        exchange.status = response.status_code
        exchange.response_headers = _headers(list(response.headers.raw))
        exchange.response_body = response.content

    @staticmethod
    def _run(hook: Hook | None, exchange: Exchange) -> None:
        if hook is not None:
            hook(exchange)

    async def _send(self, exchange: Exchange, send: Send) -> None:
        headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in exchange.response_headers.items()]
        headers.append((b"content-length", str(len(exchange.response_body)).encode()))
        await send({"type": "http.response.start", "status": exchange.status, "headers": headers})
        await send({"type": "http.response.body", "body": exchange.response_body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # Idle connections are dropped well before the server's keep-alive timeout (uvicorn's 5 s), so the
                # proxy seldom reuses one the server is closing.
                limits = httpx.Limits(max_connections=200, max_keepalive_connections=50, keepalive_expiry=1.0)
                self.client = httpx.AsyncClient(timeout=UPSTREAM_TIMEOUT_SECONDS, limits=limits, follow_redirects=False)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.client is not None:
                    await self.client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return
