"""Run a request on the event loop, never letting the loop wait on the database lock.

Profiling under wrk (bench/README.md) showed the hop into the thread pool and
the pool threads' contention for the one database lock costing more than the
request's own work: a read is a few SQLite lookups of microseconds each. So a
request whose operation has no precheck (prechecks may wait on DNS) and whose
body is small (validating a large import is work for a thread) runs inline,
on the event loop, holding the database lock, which it takes only when it is
free: while a background worker or a pool thread holds it, the request retries
with asyncio.sleep (the loop keeps serving), so the loop itself never waits.
Only after POLL_BUDGET of failed tries (a worker in a busy spell, which takes
the lock again within half a millisecond of freeing it) does the request queue
for the lock on a pool thread, where the lock's waiters are served in turn.
An earlier version sent a request to the pool as soon as the lock was busy: at
64 connections that tipped into a lasting state where pool threads always held
the lock and every request paid the hop (p99 of 650 ms); one that only retried
starved reads behind a running lead import.
Everything else takes the thread pool, as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from apollospace_refserver.handlers import PRECHECKS
from apollospace_refserver.services import Services

INLINE_BODY_LIMIT = 16 * 1024  # bytes; larger bodies are validated on a worker thread
POLL_FIRST, POLL_MAX = 0.0002, 0.002  # seconds between tries for a busy lock, doubling
POLL_BUDGET = 0.01  # seconds of tries before the request waits for the lock on a pool thread instead
PREFIX = "/v1"

T = TypeVar("T")


def may_run_inline(services: Services, method: str, path: str, body: bytes) -> bool:
    """Whether the request's own work is short and never waits on the network."""
    if len(body) > INLINE_BODY_LIMIT:
        return False
    if not path.startswith(PREFIX + "/"):
        return True  # a 404 without any lookup
    routed = services.contract.route(method, path[len(PREFIX) :])
    if isinstance(routed, list):
        return True  # a 404 or 405
    return routed[0].operation_id not in PRECHECKS


async def run_request(services: Services, method: str, path: str, body: bytes, handle: Callable[[], T]) -> T:
    """`handle()` inline while holding the database lock, or on a pool thread."""
    if may_run_inline(services, method, path, body):
        delay, waited = POLL_FIRST, 0.0
        while True:
            if services.db.try_hold():
                try:
                    return handle()
                finally:
                    services.db.release_hold()
            if waited >= POLL_BUDGET:
                break  # a long holder (a background worker's busy spell): queue on the lock in a thread
            await asyncio.sleep(delay)
            waited += delay
            delay = min(2 * delay, POLL_MAX)
    return await run_in_threadpool(handle)
