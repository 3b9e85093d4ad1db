"""The database lock: re-entrant, served in arrival order, and awaitable by the event loop.

The server shares one SQLite connection between the event loop (short
requests, run inline), pool threads (requests that may wait on the network)
and background workers. A plain RLock served them badly under load (bench/README.md):
the loop cannot block on it, so it polled; a worker that released and
re-took it at once won it back before a polling request looked again; and
requests that gave up polling queued on pool threads, each paying a thread hop.

Here the lock is handed over on release to the oldest waiter, whether that
is a thread (woken through its own lock) or the event loop (woken through a
future it awaits, so the loop keeps serving meanwhile). Nobody can overtake
a waiter, so a busy worker never starves requests and the loop never waits.

Ownership is per thread, as with RLock, and a thread re-enters a lock it
holds. The loop's requests share the loop's ownership: when the lock is
handed to the loop, every loop request queued next in line gets it at once
(each holds a share until it releases), and a new request on the loop joins
in while nobody is queued. A request on the loop never overtakes a queued
waiter, though: letting newcomers in ahead of the queue left queued requests
waiting for 600 ms at p99 at 64 connections. Sharing matters under load: when
loop requests were granted one at a time, one tick of a background worker
was enough to start a convoy (every later request found a queue, so it queued,
and was woken through the loop's self-pipe) that lasted as long as the load,
and cost 40% of the server's CPU per request (bench/README.md).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable


class _Waiter:
    __slots__ = ("ident", "wake", "granted")

    def __init__(self, ident: int, wake: Callable[[], None]) -> None:
        self.ident, self.wake, self.granted = ident, wake, False


class FairLock:
    def __init__(self) -> None:
        self._guard = threading.Lock()  # held only for a few bookkeeping statements
        self._owner: int | None = None
        self._count = 0
        self._waiters: deque[_Waiter] = deque()

    # --- threads ------------------------------------------------------------------------------

    def acquire(self) -> None:
        """Block the calling thread until it owns the lock (re-entrant)."""
        me = threading.get_ident()
        with self._guard:
            if self._take(me):
                return
            parked = threading.Lock()
            parked.acquire()
            self._waiters.append(_Waiter(me, parked.release))
        parked.acquire()  # released once the lock has been handed to this thread

    def try_acquire(self) -> bool:
        """Own the lock if that needs no wait (re-entrant); never overtakes a waiter."""
        with self._guard:
            return self._take(threading.get_ident())

    def release(self) -> None:
        with self._guard:
            if self._owner != threading.get_ident() or self._count == 0:
                raise RuntimeError("release of a lock this thread does not own")
            self._count -= 1
            if self._count == 0:
                self._hand_over()

    def __enter__(self) -> FairLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    # --- the event loop -----------------------------------------------------------------------

    async def acquire_async(self) -> None:
        """Own the lock from the event loop's thread, awaiting (never blocking) while others hold it."""
        me = threading.get_ident()
        with self._guard:
            if self._take(me, share=True):
                return  # the usual case: no future, no callback
            loop = asyncio.get_running_loop()
            granted: asyncio.Future[None] = loop.create_future()

            def deliver() -> None:  # on the loop, after the lock was handed to it
                if granted.cancelled():
                    self.release()  # the request gave up meanwhile: pass the lock on
                else:
                    granted.set_result(None)

            def wake() -> None:  # from the loop's own thread, no self-pipe write
                if threading.get_ident() == me:
                    loop.call_soon(deliver)
                else:
                    loop.call_soon_threadsafe(deliver)

            waiter = _Waiter(me, wake)
            self._waiters.append(waiter)
        try:
            await granted
        except asyncio.CancelledError:
            with self._guard:
                if not waiter.granted:
                    self._waiters.remove(waiter)
                    raise
            if granted.done() and not granted.cancelled():
                self.release()  # delivered, then cancelled before the request could use it
            raise  # otherwise `deliver`, still to run, passes the lock on

    # --- bookkeeping (under the guard) ----------------------------------------------------------

    def _take(self, me: int, share: bool = False) -> bool:
        """Own the lock now if allowed: re-entry by its owner thread, or a share of the
        loop's ownership (`share`) while nobody is queued, or a free lock nobody waits for."""
        if self._owner == me and (not share or not self._waiters):
            self._count += 1
            return True
        if self._owner is None and not self._waiters:
            self._owner, self._count = me, 1
            return True
        return False

    def _hand_over(self) -> None:
        """To the oldest waiter; when that is the loop, to every loop request queued next in line."""
        if not self._waiters:
            self._owner = None
            return
        first = self._waiters.popleft()
        batch = [first]
        while self._waiters and self._waiters[0].ident == first.ident:  # only the loop queues twice
            batch.append(self._waiters.popleft())
        self._owner, self._count = first.ident, len(batch)
        for waiter in batch:
            waiter.granted = True
            waiter.wake()
