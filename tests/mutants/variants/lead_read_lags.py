"""Breaks /req/responses/resource-lifecycle: a lead created in the last five seconds reads as 404 (getLead goes to a lagging replica).

Writes go to the primary and reads to a replica that is seconds behind: the
201's `id`, followed at once as the spec's link says, is not found yet.
"""

from __future__ import annotations

import json
import re
import time

from tests.mutants.asgi import ASGIApp, Message, Receive, Scope, Send

LEAD = re.compile(r"^/v1/leads/([^/]+)$")
LAG_SECONDS = 5.0
UNKNOWN_LEAD = "/v1/leads/00000000-0000-4000-8000-000000000000"


def wrap(app: ASGIApp) -> ASGIApp:
    created: dict[str, float] = {}  # lead id -> when its 201 went out

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        found = LEAD.match(scope["path"])
        if scope["method"] == "GET" and found and time.monotonic() - created.get(found.group(1), -LAG_SECONDS) < LAG_SECONDS:
            scope = {**scope, "path": UNKNOWN_LEAD, "raw_path": UNKNOWN_LEAD.encode()}
        if scope["method"] != "POST" or scope["path"] != "/v1/leads":
            await app(scope, receive, send)
            return
        status = {"code": 0}
        chunks: list[bytes] = []

        async def remember(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            elif status["code"] == 201:
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    created[json.loads(b"".join(chunks))["id"]] = time.monotonic()
            await send(message)

        await app(scope, receive, remember)

    return wrapped
