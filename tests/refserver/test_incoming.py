"""incoming.py reads a request and writes a response as Starlette's Request and Response did."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from apollospace_refserver.incoming import Incoming, read_body, send_response

SCOPE: dict[str, Any] = {
    "type": "http",
    "method": "POST",
    "path": "/v1/leads\n",
    "query_string": b"limit=20&tag=&tag=a%20b&q=caf%C3%A9+x&flag",
    "headers": [
        (b"authorization", b"Bearer first"),
        (b"Authorization", b"Bearer second"),
        (b"x-organization-id", b"\xe9t\xe9"),
        (b"content-type", b"application/json"),
        (b"idempotency-key", b"k1"),
        (b"idempotency-key", b"k2"),
    ],
}


def test_fields_match_starlettes_request() -> None:
    ours, theirs = Incoming(SCOPE), Request(SCOPE)
    assert (ours.method, ours.path) == (theirs.method, theirs.scope["path"])
    for name in ("authorization", "x-organization-id", "content-type", "content-length"):
        assert ours.header(name) == theirs.headers.get(name)  # the first of repeated headers
    assert ours.headers == {k.lower(): v for k, v in theirs.headers.items()}  # the last of them
    assert ours.query_items() == list(theirs.query_params.multi_items())


def _sent(status: int, headers: dict[str, str], content: bytes | None, *, starlette: bool) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    async def run() -> None:
        if not starlette:
            await send_response(send, status, headers, content)
        elif content is None:
            await Response(status_code=status, headers=headers)(SCOPE, None, send)  # type: ignore[arg-type]
        else:
            await Response(content, status_code=status, headers=headers, media_type="application/json")(SCOPE, None, send)  # type: ignore[arg-type]

    asyncio.run(run())
    return messages


@pytest.mark.parametrize(
    ("status", "headers", "content"),
    [
        (200, {"X-Request-Id": "req_1"}, b'{"a":1}'),
        (201, {"Location": "/v1/leads/1", "X-Request-Id": "req_2"}, b"{}"),
        (204, {"X-Request-Id": "req_3"}, None),
        (202, {"X-Request-Id": "req_4"}, None),
        (304, {}, None),
        (429, {"Retry-After": "3", "X-Request-Id": "req_5"}, b'{"error":{}}'),
        (200, {"Content-Type": "application/problem+json"}, b"{}"),
    ],
)
def test_response_matches_starlettes(status: int, headers: dict[str, str], content: bytes | None) -> None:
    assert _sent(status, headers, content, starlette=False) == _sent(status, headers, content, starlette=True)


def _read(messages: list[dict[str, Any]], declared: str | None, limit: int) -> bytes | None:
    inbox = list(messages)

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    return asyncio.run(read_body(receive, declared, limit))


def test_body_is_joined_and_bounded() -> None:
    chunks = [{"type": "http.request", "body": b"ab", "more_body": True}, {"type": "http.request", "body": b"cd", "more_body": False}]
    assert _read(chunks, None, 4) == b"abcd"
    assert _read(chunks, None, 3) is None  # counted as it streams in
    assert _read(chunks, "5", 4) is None  # refused on the declared length, before reading
    assert _read([{"type": "http.request", "body": b"", "more_body": False}], "0", 4) == b""
    with pytest.raises(ClientDisconnect):
        _read([{"type": "http.request", "body": b"a", "more_body": True}, {"type": "http.disconnect"}], None, 4)
