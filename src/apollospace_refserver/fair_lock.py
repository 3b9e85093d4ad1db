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
holds. A request awaiting the lock on the loop never re-enters it, though:
while the loop owns the lock for a request whose grant is still to be
delivered, a new request would otherwise slip in ahead of every queued one
(at 64 connections that left queued requests waiting for 600 ms at p99).
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
            if self._take(me, reenter=False):
                return  # the usual case: no future, no callback
            loop = asyncio.get_running_loop()
            granted: asyncio.Future[None] = loop.create_future()

            def deliver() -> None:  # on the loop, after the lock was handed to it
                if granted.cancelled():
                    self.release()  # the request gave up meanwhile: pass the lock on
                else:
                    granted.set_result(None)

            waiter = _Waiter(me, lambda: loop.call_soon_threadsafe(deliver))
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

    def _take(self, me: int, reenter: bool = True) -> bool:
        if reenter and self._owner == me:
            self._count += 1
            return True
        if self._owner is None and not self._waiters:
            self._owner, self._count = me, 1
            return True
        return False

    def _hand_over(self) -> None:
        if not self._waiters:
            self._owner = None
            return
        waiter = self._waiters.popleft()
        waiter.granted = True
        self._owner, self._count = waiter.ident, 1
        waiter.wake()
