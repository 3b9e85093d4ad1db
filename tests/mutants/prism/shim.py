"""Serve Prism's mock under `/v1`: `python tests/mutants/prism/shim.py --upstream URL --port-file FILE`.

Prism 5.16 mocks every path of the bundle without the `servers` prefix
(`GET /leads`), while the contract and the kit put every operation under `/v1/`.
This proxy is the only thing between the kit and Prism: it strips `/v1` from the
path and passes everything else through unchanged, both ways (method, query,
headers, body, status, response headers and body). It adds no behaviour of its
own, so every verdict is Prism's. A path outside `/v1` is a bare 404, and an
upstream that cannot be reached or does not answer within UPSTREAM_TIMEOUT is a
bare 502 (the kit's own per-request timeout is shorter, so it sees a slow Prism
as slow). The proxy binds port 0 and writes the port it got to `--port-file`.
"""

from __future__ import annotations

import argparse
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PREFIX = "/v1"
UPSTREAM_TIMEOUT = 120.0  # seconds; well past the kit's own timeout, only so a hung Prism frees the proxy
# Hop-by-hop headers (RFC 9110, 7.6.1) belong to one connection, not to the message: never forwarded.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host"})


def upstream_path(path: str) -> str | None:
    """`/v1/leads` -> `/leads`; None for a path outside the prefix."""
    if path == PREFIX:
        return "/"
    if path.startswith(PREFIX + "/"):
        return path[len(PREFIX):]
    return None


def make_app(upstream: str) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    # No default headers of httpx's own (accept-encoding, user-agent...): Prism sees the kit's request as sent.
    client = httpx.AsyncClient(base_url=upstream, timeout=UPSTREAM_TIMEOUT, headers={})

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, client)
            return
        path = upstream_path(scope["path"])
        if path is None:
            await _bare(send, 404)
            return
        body = await _read_body(receive)
        # The body is whole here, so its length is known again whatever framing the kit used.
        headers = [(k, v) for k, v in scope["headers"] if k.decode("latin-1").lower() not in HOP_BY_HOP | {"content-length"}]
        if body or scope["method"] in ("POST", "PUT", "PATCH"):
            headers.append((b"content-length", str(len(body)).encode()))
        query = scope.get("query_string", b"")
        raw_path = path.encode() + (b"?" + query if query else b"")
        request = client.build_request(scope["method"], httpx.URL(upstream).copy_with(raw_path=raw_path), content=body)
        # Exactly the kit's headers, minus hop-by-hop ones, with Prism's own Host.
        request.headers = httpx.Headers([(b"host", request.url.netloc), *headers])
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError:
            await _bare(send, 502)
            return
        try:
            payload = b"".join([chunk async for chunk in response.aiter_raw()])
        finally:
            await response.aclose()
        out = [(k, v) for k, v in response.headers.raw if k.decode("latin-1").lower() not in HOP_BY_HOP | {"content-length"}]
        if response.status_code not in (204, 304) and scope["method"] != "HEAD":
            out.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": response.status_code, "headers": out})
        await send({"type": "http.response.body", "body": payload})

    return app


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _bare(send: Send, status: int) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


async def _lifespan(receive: Receive, send: Send, client: httpx.AsyncClient) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await client.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="Prism's base URL, e.g. http://127.0.0.1:4010")
    parser.add_argument("--port-file", required=True, type=Path, help="where to write the port the proxy listens on")
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # connections queue from here on, before uvicorn's loop accepts them
    ready = args.port_file.with_suffix(".tmp")
    ready.write_text(str(sock.getsockname()[1]), "utf-8")
    ready.replace(args.port_file)  # whoever waits for the file never reads it half written
    config = uvicorn.Config(make_app(args.upstream.rstrip("/")), log_level="warning", access_log=False, lifespan="on",
                            server_header=False, date_header=False)  # Prism's own Date, no Server of ours
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
