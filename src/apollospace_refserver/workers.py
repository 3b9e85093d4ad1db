"""Background workers: agent runs, lead imports and webhook deliveries.

A worker is registered with `@worker(name)`: either a `tick(services) -> bool`
function, or a class built with the services whose instances have `tick()`
and `close()` (for a worker that keeps something between ticks, such as a
pool of delivery threads). A thread calls `tick` until it reports no work,
then sleeps one poll interval. Workers keep their state in the database, so
a restart resumes where a crash left.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from apollospace_refserver.services import Services

log = logging.getLogger("apollospace_refserver.workers")
Tick = Callable[[Services], bool]


class Worker(Protocol):
    def tick(self) -> bool:
        """Do one step of work; true when there was any (the next tick follows at once)."""

    def close(self) -> None:
        """Stop taking work; called once, after the last tick."""


Factory = Callable[[Services], Worker]
WORKERS: dict[str, Factory] = {}
Registered = TypeVar("Registered")
# After a busy tick the worker sleeps this long, so a request waiting for the
# database lock gets it (a thread that releases a lock and takes it again at
# once usually wins it back before the waiting thread wakes up).
YIELD_SECONDS = 0.0005
MAX_PASSED = 4  # polls in a row a worker lets pass while the database is busy, before it waits its turn


class _FunctionWorker:
    def __init__(self, tick: Tick, services: Services) -> None:
        self._tick, self._services = tick, services

    def tick(self) -> bool:
        return self._tick(self._services)

    def close(self) -> None:
        pass


def worker(name: str) -> Callable[[Registered], Registered]:
    def register(target: Registered) -> Registered:
        if isinstance(target, type):
            WORKERS[name] = target
        else:
            tick: Tick = target  # type: ignore[assignment]
            WORKERS[name] = lambda services: _FunctionWorker(tick, services)
        return target

    return register


class Workers:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running: list[Worker] = []

    def start(self) -> None:
        self._stop.clear()
        for name, factory in WORKERS.items():
            running = factory(self.services)
            self._running.append(running)
            thread = threading.Thread(target=self._loop, args=(name, running), name=f"apollospace-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _loop(self, name: str, running: Worker) -> None:
        poll = self.services.settings.worker_poll_seconds
        lock = self.services.db.lock
        passed, busy = 0, False
        while not self._stop.is_set():
            # Poll only when the database lock is free: a poll that queues for it holds
            # it, once handed over, until this thread gets the GIL back from a busy event
            # loop, stalling every request meanwhile (p99 of 15 ms at 8 connections
            # instead of 10). A poll passes at most MAX_PASSED times in a row, and
            # never while the worker has work (it then waits its turn, as before).
            if busy or passed >= MAX_PASSED:
                lock.acquire()
            elif not lock.try_acquire():
                passed += 1
                self._stop.wait(poll)
                continue
            passed = 0
            try:
                busy = self._tick(name, running)
            finally:
                lock.release()
            if busy:
                time.sleep(YIELD_SECONDS)
            else:
                self._stop.wait(poll)

    @staticmethod
    def _tick(name: str, running: Worker) -> bool:
        try:
            return running.tick()
        except Exception:
            log.exception("worker %s failed; retrying", name)
            return False

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        for running in self._running:
            try:
                running.close()
            except Exception:
                log.exception("a worker failed to close")
        self._threads.clear()
        self._running.clear()
