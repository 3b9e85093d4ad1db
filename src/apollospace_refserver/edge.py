"""The HTTP edge: what is refused before the application sees a request, with the error envelope.

uvicorn's own parser answers bytes it cannot parse (an unknown method such as
`FOO`, a malformed request line) with a plain-text 400, and reads headers and
a declared body of any size. This protocol keeps uvicorn's parser and:

- counts the bytes of each request head (request line and headers) as they
  arrive and answers 431 as soon as they pass the documented limit;
- answers 413 when `Content-Length` declares more than the body limit, before
  reading any of the body (the application counts chunked bodies itself);
- answers what the parser refuses with the envelope: 405 with `Allow` for a
  syntactically valid but unknown method on a known path, 404 on an unknown
  path, 400 otherwise (a body sent with `Upgrade` included: no protocol
  upgrade is supported, and the parser would withhold that body).

After such an answer the connection is closed gracefully: the answer and a FIN
go out, and what the client still sends is read and dropped for a moment (at
most LINGER_SECONDS and LINGER_BYTES), so the client reads the answer instead
of a connection reset. So is a connection the application closes while its
request's body is still arriving (its 413 for a chunked body past the limit):
closed at once, the unread bytes made the kernel reset the connection, and the
client lost the answer about one time in ten.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from apollospace_refserver.errors import envelope, new_request_id
from apollospace_refserver.write_coalescing import CoalescingTransport

LINGER_SECONDS = 2.0
LINGER_BYTES = 4 * 1024 * 1024
# A request line whose method is an RFC 9110 token the parser does not know.
_REQUEST_LINE = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}) (/[^ \r\n]{0,8000}) HTTP/1\.[01]\r?\n")

# path (without query) -> allowed methods, [] for an unknown path
Router = Callable[[str], list[str]]


class _Refused(Exception):
    """Raised inside a parser callback to stop parsing once the edge has answered."""


class EdgeProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the documented limits and enveloped parse errors."""

    max_head_bytes = 16 * 1024
    max_body_bytes = 1024 * 1024
    router: Router | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # between the first byte of a request and the end of its headers
        self._head_bytes = 0
        self._refused = False
        self._lingered = 0
        self._begun_in_chunk = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_EdgeTransport(transport, self.loop, self))  # type: ignore[arg-type]

    def _close_when_answered(self) -> bool:
        """Whether a close now should linger: the answer is out, the request's body still arriving."""
        return not self._refused and self.cycle is not None and self.cycle.more_body

    # --- reading ----------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._refused:
            self._linger(len(data))
            return
        self._unset_keepalive_if_required()
        self._begun_in_chunk = 0
        chunk_start = data
        while data:
            if self._in_head:
                room = self.max_head_bytes - self._head_bytes
                if room <= 0:
                    self._refuse(431, "request_headers_too_large", f"The request line and headers exceed {self.max_head_bytes} bytes.")
                    return
                piece, data = data[:room], data[room:]
                self._head_bytes += len(piece)
            else:
                piece, data = data, b""
            try:
                self.parser.feed_data(piece)
            except httptools.HttpParserUpgrade:
                # No protocol upgrade here (ws="none"): the request (without a body, see
                # _refusal) was handed to the application; the parser stops at an
                # upgrade, so the connection closes after this answer.
                if self.cycle is not None:
                    self.cycle.keep_alive = False
                return
            except httptools.HttpParserError as exc:
                if not self._refused:
                    self._parse_error(exc, chunk_start)
                return

    # The head count runs from the end of one message to the end of the next
    # one's headers. Bytes of a pipelined request that arrive in the same chunk
    # as the end of the previous one go uncounted: the limit can be overshot
    # by at most one read (256 KiB), never without bound.

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._begun_in_chunk += 1

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        refusal = self._refusal()
        if refusal is None:
            super().on_headers_complete()
            return
        if self.cycle is None or self.cycle.response_complete:
            self._refuse(*refusal)
        else:
            self.transport.close()  # a pipelined request behind one still answering: no room to answer
            self._refused = True
        raise _Refused

    def _refusal(self) -> tuple[int, str, str] | None:
        """Why the request whose headers just ended is refused before the application, if it is."""
        length = _content_length(self.headers)
        if length is not None and length > self.max_body_bytes:
            return 413, "payload_too_large", f"The request body exceeds {self.max_body_bytes} bytes."
        if self.parser.should_upgrade() and (length or any(name == b"transfer-encoding" for name, _ in self.headers)):
            # The parser hands what follows an upgrade request's head to the new protocol, so
            # its body would never reach the application: refused instead of answered as if empty.
            return 400, "malformed_request", "Protocol upgrades are not supported; send the request without the Upgrade header."
        return None

    # --- answering --------------------------------------------------------------------------

    def _parse_error(self, exc: Exception, chunk: bytes) -> None:
        if isinstance(exc.__context__, _Refused):
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()  # answering now would interleave with the answer in progress
            self._refused = True
            return
        line = _REQUEST_LINE.match(chunk) if self._begun_in_chunk <= 1 else None
        if isinstance(exc, httptools.HttpParserInvalidMethodError) and line is not None and self.router is not None:
            path = line.group(2).split(b"?", 1)[0].decode("ascii", "replace")
            allowed = self.router(path)
            if allowed:
                self._refuse(405, "method_not_allowed", "This endpoint does not support that method.", {"Allow": ", ".join(allowed)})
            else:
                self._refuse(404, "route_not_found", "No such endpoint.")
            return
        self._refuse(400, "malformed_request", "The request is not a well-formed HTTP/1.1 request.")

    def _refuse(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        """Answer with the envelope, then close gracefully (see the module docstring)."""
        self._refused = True
        request_id = new_request_id()
        body = json.dumps(envelope(code, message, request_id)).encode()
        lines = [STATUS_LINE[status]]
        for name, value in {
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            "X-Request-Id": request_id,
            "Connection": "close",
            **(headers or {}),
        }.items():
            lines.append(f"{name}: {value}\r\n".encode("latin-1"))
        lines += [b"\r\n", body]
        self.transport.write(b"".join(lines))
        self._close_gracefully()

    def _close_gracefully(self) -> None:
        """Send a FIN after what is written, read and drop what the client still sends, close later."""
        self._refused = True  # data_received now only counts what arrives (_linger)
        self.flow.resume_reading()  # the application stopped reading: what is queued must drain
        transport = self.transport
        if transport.can_write_eof():
            transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, transport.close)

    def _linger(self, size: int) -> None:
        self._lingered += size
        if self._lingered > LINGER_BYTES:
            self.transport.close()


class _EdgeTransport(CoalescingTransport):
    """The edge's transport: uvicorn's close after an answer lingers while the request's body is unread."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop, protocol: EdgeProtocol) -> None:
        super().__init__(transport, loop)
        self._protocol = protocol

    def close(self) -> None:
        if self._protocol._close_when_answered():
            self._protocol._close_gracefully()
        else:
            super().close()


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            text = value.strip()
            return int(text) if text.isdigit() and len(text) < 20 else None
    return None


def edge_protocol(router: Router | None, max_head_bytes: int, max_body_bytes: int) -> type[EdgeProtocol]:
    """An EdgeProtocol class bound to one application's routes and limits."""
    return type("BoundEdgeProtocol", (EdgeProtocol,), {
        "router": staticmethod(router) if router is not None else None,
        "max_head_bytes": max_head_bytes,
        "max_body_bytes": max_body_bytes,
    })


def edge_config(app: Any, **kwargs: Any) -> uvicorn.Config:
    """A uvicorn config serving `app` (a ReferenceApp) behind the edge protocol with the spec's limits."""
    contract = app.state.services.contract
    limits = contract.limits
    protocol = edge_protocol(contract.allowed_methods, limits.head_bytes, limits.body_bytes)
    # No proxy sits in front of a loopback server: X-Forwarded-* are not trusted, and the
    # middleware that reads them (4% of a GET under wrk) is left out.
    return uvicorn.Config(app, http=protocol, ws="none", proxy_headers=False, **kwargs)


class AnnouncingServer(uvicorn.Server):
    """A uvicorn server that calls `announce` once its sockets accept connections (not before)."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[], None]) -> None:
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:  # startup sets it last, after every socket listens and lifespan is done
            self._announce()
