"""Background workers: agent runs, lead imports and webhook deliveries.

Each worker is a `tick(services) -> bool` function registered with `@worker`;
a thread calls it until it reports no work, then sleeps one poll interval.
Workers keep their state in the database, so a restart resumes where a crash left.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from apollospace_refserver.services import Services

log = logging.getLogger("apollospace_refserver.workers")
Tick = Callable[[Services], bool]
WORKERS: dict[str, Tick] = {}


def worker(name: str) -> Callable[[Tick], Tick]:
    def register(tick: Tick) -> Tick:
        WORKERS[name] = tick
        return tick

    return register


class Workers:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._stop.clear()
        for name, tick in WORKERS.items():
            thread = threading.Thread(target=self._loop, args=(name, tick), name=f"apollospace-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _loop(self, name: str, tick: Tick) -> None:
        poll = self.services.settings.worker_poll_seconds
        while not self._stop.is_set():
            try:
                busy = tick(self.services)
            except Exception:
                log.exception("worker %s failed; retrying", name)
                busy = False
            if not busy:
                self._stop.wait(poll)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
