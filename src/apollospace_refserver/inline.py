"""Run a request on the event loop, never letting the loop block on the database lock.

Profiling under wrk (bench/README.md) showed the hop into the thread pool and
the pool threads' contention for the one database lock costing more than the
request's own work: a read is a few SQLite lookups of microseconds each. So a
request whose operation has no precheck (prechecks may wait on DNS) and whose
body is small (validating a large import is work for a thread) runs inline,
on the event loop, holding the database lock. It awaits its turn for the lock
(fair_lock.py): the lock is handed to waiters in arrival order, so the loop
keeps serving while a background worker or a pool thread holds it, and a
worker in a busy spell cannot take it back ahead of waiting requests.
Two earlier designs polled the lock with asyncio.sleep: one that fell back to
the pool as soon as the lock was busy tipped at 64 connections into a lasting
state where pool threads always held it (p99 of 650 ms); one that gave up
polling after 10 ms still sent requests to the pool under load, and the CPU
per create doubled at 64 connections.
Everything else takes the thread pool, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from apollospace_refserver.handlers import PRECHECKS
from apollospace_refserver.services import Services

INLINE_BODY_LIMIT = 16 * 1024  # bytes; larger bodies are validated on a worker thread
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


async def run_request(services: Services, method: str, path: str, body: bytes, handle: Callable[[bool], T]) -> T:
    """`handle(True)` inline while holding the database lock, or `handle(False)` on a pool thread."""
    if may_run_inline(services, method, path, body):
        await services.db.lock.acquire_async()  # awaits its turn: the loop never blocks on the lock
        try:
            return handle(True)
        finally:
            services.db.lock.release()
    return await run_in_threadpool(handle, False)
