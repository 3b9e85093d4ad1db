"""Breaks /req/idempotency/key-accepted: createLeadImport answers 400 to any request that carries an Idempotency-Key.

The partner's request validation rejects headers it does not list per
operation, and the import endpoint (added later) never got
`Idempotency-Key` on its list: the one POST where a retry matters most.
"""

from __future__ import annotations

import json

from tests.mutants.asgi import ASGIApp, Receive, Scope, Send


def wrap(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        keyed = any(name.lower() == b"idempotency-key" for name, _ in scope.get("headers", []))
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/v1/lead-imports" and keyed:
            body = json.dumps({"error": {"code": "validation_failed", "message": "Unknown header: Idempotency-Key.",
                                         "request_id": "req_idempotencykeyrefused0"}}).encode()
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return wrapped
