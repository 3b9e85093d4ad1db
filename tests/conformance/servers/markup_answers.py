"""A reference server that answers one list operation with an HTML page full of markup (not a correct server).

The kit quotes what a server sent in its reports ("received"). GET
/v1/stars/transactions answers 503 with a page holding a heading, an image
whose onerror runs script, and a <script>: /req/versioning/v1-prefix fails
with that body quoted, so a test can check the certificate shows it as text.
"""

from __future__ import annotations

from typing import Any

PAGE = (b"<h1>INJECTED</h1><img src=x onerror=\"document.title='XSS'\">"
        b"<script>document.title='XSS';document.body.setAttribute('data-xss','1')</script><b>token</b>")
BROKEN_PATH = "/v1/stars/transactions"


def wrap(app: Any) -> Any:
    async def served(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].rstrip("/") == BROKEN_PATH:
            await send({"type": "http.response.start", "status": 503,
                        "headers": [(b"content-type", b"text/html"), (b"content-length", str(len(PAGE)).encode())]})
            await send({"type": "http.response.body", "body": PAGE})
            return
        await app(scope, receive, send)

    return served
