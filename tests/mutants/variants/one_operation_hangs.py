"""Breaks /req/responses/timely: GET /runs/{run_id}/trace answers only after a minute, far past the documented 15 seconds.

The partner assembles a run's trace from cold storage on every read. Every
other operation answers at once, so the server is up all along: the kit must
fail this one requirement and go on judging everything else, not declare the
target dead.
"""

from __future__ import annotations

import asyncio
import re

from tests.mutants.asgi import ASGIApp, Receive, Scope, Send

TRACE = re.compile(r"^/v1/runs/[^/]+/trace/?$")
STALL_SECONDS = 60.0  # four times the documented response time, then the real answer


def wrap(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and TRACE.match(scope["path"]):
            await asyncio.sleep(STALL_SECONDS)
        await app(scope, receive, send)

    return wrapped
