"""Taking turns between organizations, so a busy one cannot keep another waiting.

The import worker serves one organization's oldest import per step, the
organizations in turn; the delivery dispatcher offers free delivery slots to
the organizations in turn. Turns live in memory: after a restart they start
over, which costs fairness nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable


class RoundRobin:
    """Rotates over whichever keys are waiting: each turn starts after the key that had the last one."""

    def __init__(self) -> None:
        self._last: str | None = None
        self._lock = threading.Lock()

    def order(self, waiting: Iterable[str]) -> list[str]:
        """The waiting keys, starting with the first one after the last turn's (wrapping); that key has this turn."""
        keys = sorted(set(waiting))
        with self._lock:
            start = next((i for i, key in enumerate(keys) if self._last is None or key > self._last), 0)
            ordered = keys[start:] + keys[:start]
            if ordered:
                self._last = ordered[0]
        return ordered

    def take(self, waiting: Iterable[str]) -> str | None:
        """The key whose turn it is, or None when none is waiting."""
        ordered = self.order(waiting)
        return ordered[0] if ordered else None
