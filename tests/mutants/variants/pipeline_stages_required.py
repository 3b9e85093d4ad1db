"""Breaks /req/responses/valid-input-accepted: createPipeline refuses a body without `stages` (400 validation_failed).

The partner's validator was generated with every documented property marked
required, so the optional `stages` (default: the seven standard stages)
became mandatory.
"""

from __future__ import annotations

import json

from tests.mutants.asgi import ASGIApp, Receive, Scope, Send, send_error


def wrap(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/v1/pipelines":
            await app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw = b"".join(chunks)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if isinstance(body, dict) and "stages" not in body:
            await send_error(send, 400, "validation_failed", "body.stages: a required property is missing")
            return
        replayed = False

        async def replay() -> dict:  # type: ignore[type-arg]
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": raw, "more_body": False}

        await app(scope, replay, send)

    return wrapped
