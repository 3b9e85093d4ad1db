"""Thin ASGI wrappers that make the reference server break one rule.

`rewrite_responses` edits what the server sends (status, headers, JSON body);
`rewrite_requests` edits what it receives (path, query, headers). Variants that
need an internal change patch one function of the server instead.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
_NO_BODY = object()


@dataclass
class Exchange:
    """A response on its way out, editable: `body` is parsed JSON (or _NO_BODY)."""

    method: str
    path: str
    query: str
    request_headers: dict[str, str]
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = _NO_BODY

    @property
    def has_body(self) -> bool:
        return self.body is not _NO_BODY

    def drop_body(self) -> None:
        self.body = _NO_BODY


Transform = Callable[[Exchange], None]


def rewrite_responses(app: ASGIApp, transform: Transform) -> ASGIApp:
    """Buffer each HTTP response, let `transform` edit it, send the result."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            raw = b"".join(chunks)
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in start.get("headers", [])}
            exchange = Exchange(
                method=scope["method"], path=scope["path"], query=scope.get("query_string", b"").decode("latin-1"),
                request_headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])},
                status=start["status"], headers=headers,
            )
            if raw:
                try:
                    exchange.body = json.loads(raw)
                except ValueError:
                    exchange.body = raw.decode("utf-8", "replace")
            transform(exchange)
            if not exchange.has_body:
                payload = b""
            elif isinstance(exchange.body, str) and exchange.headers.get("content-type", "").startswith("text/"):
                payload = exchange.body.encode()
            else:
                payload = json.dumps(exchange.body).encode()
            exchange.headers["content-length"] = str(len(payload))
            if not payload:
                exchange.headers.pop("content-type", None)
            await send({"type": "http.response.start", "status": exchange.status,
                        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in exchange.headers.items()]})
            await send({"type": "http.response.body", "body": payload})

        await app(scope, receive, capture)

    return wrapped


RequestTransform = Callable[[Scope], None]


def rewrite_requests(app: ASGIApp, transform: RequestTransform) -> ASGIApp:
    """Let `transform` edit the request scope (path, query_string, headers) before the server sees it."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = dict(scope)
            transform(scope)
        await app(scope, receive, send)

    return wrapped


def walk_json(value: Any, visit: Callable[[str, Any], Any]) -> Any:
    """A copy of `value` where every (key, scalar) pair went through `visit`."""
    if isinstance(value, dict):
        return {key: walk_json(visit(key, item), visit) if not isinstance(item, dict | list) else walk_json(item, visit) for key, item in value.items()}
    if isinstance(value, list):
        return [walk_json(item, visit) for item in value]
    return value


async def send_error(send: Send, status: int, code: str, message: str) -> None:
    """Answer with the error envelope, as the server itself would (fresh request id, in the header too)."""
    from apollospace_refserver.errors import new_request_id

    request_id = new_request_id()
    payload = json.dumps({"error": {"code": code, "message": message, "request_id": request_id}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            (b"x-request-id", request_id.encode())]})
    await send({"type": "http.response.body", "body": payload})
