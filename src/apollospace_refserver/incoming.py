"""One HTTP request and its answer at the ASGI level, without framework objects.

Starlette's Request and Response cost about a tenth of a short request's CPU
(bench/README.md): header objects built and searched per lookup, a query
parser object, a stream generator for a body that arrives in one message.
The dispatcher reads a handful of fields, so they are taken from the scope
once. The semantics are Starlette's: header names compared lower-case,
values decoded as latin-1, `header()` gives the first of repeated headers and
`headers` the last (as a dict built from them did), the query split by
`parse_qsl(keep_blank_values=True)`, and the response headers Starlette adds
(Content-Length except on 1xx, 204 and 304; Content-Type for a JSON body).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from apollospace_refserver.fastjson import dumps_bytes


class Incoming:
    """The fields of one request the dispatcher reads."""

    __slots__ = ("method", "path", "query_string", "headers", "_first")

    def __init__(self, scope: Scope) -> None:
        self.method: str = scope["method"]
        self.path: str = scope["path"]  # not a URL's path, which would drop a trailing newline
        self.query_string: bytes = scope.get("query_string", b"")
        pairs = [(name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in scope["headers"]]
        self.headers: dict[str, str] = dict(pairs)  # a repeated header: its last value
        self._first: dict[str, str] = dict(reversed(pairs))

    def header(self, name: str) -> str | None:
        """The first value of header `name` (lower-case), or None."""
        return self._first.get(name)

    def query_items(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query_string.decode("latin-1"), keep_blank_values=True)


async def read_body(receive: Receive, declared_length: str | None, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is known to pass `limit` bytes.

    The edge protocol refuses a too-large Content-Length before the application
    runs; this also covers chunked bodies, counted as they stream in, and
    servers run without the edge protocol. A client that goes away mid-body
    raises ClientDisconnect, as Starlette's request stream did.
    """
    if declared_length is not None and declared_length.isdigit() and int(declared_length) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def send_response(send: Send, status: int, headers: dict[str, str], content: bytes | None) -> None:
    """Send `content` (JSON, or None for no body) with `headers` and the ones Starlette adds."""
    raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
    given = {name for name, _ in raw}
    body = content or b""
    if status >= 200 and status not in (204, 304) and b"content-length" not in given:
        raw.append((b"content-length", str(len(body)).encode("latin-1")))
    if content is not None and b"content-type" not in given:
        raw.append((b"content-type", b"application/json"))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, status: int, headers: dict[str, str], value: Any) -> None:
    await send_response(send, status, headers, dumps_bytes(value))
