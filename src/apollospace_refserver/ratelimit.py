"""Fixed-window rate limits per organization and operation type."""

from __future__ import annotations

import math
import threading
import time


class RateLimiter:
    def __init__(self, limits: dict[str, int], window_seconds: float) -> None:
        self._limits = dict(limits)
        self._window = window_seconds
        self._counts: dict[tuple[str, str, int], int] = {}
        self._lock = threading.Lock()

    def check(self, org_id: str, rate_class: str) -> int | None:
        """None when the call may proceed, else the seconds to wait (Retry-After)."""
        limit = self._limits.get(rate_class)
        if limit is None:
            return None
        now = time.monotonic()
        window = int(now // self._window)
        with self._lock:
            key = (org_id, rate_class, window)
            count = self._counts.get(key, 0)
            if count >= limit:
                return max(1, math.ceil((window + 1) * self._window - now))
            self._counts[key] = count + 1
            if len(self._counts) > 10_000:  # forget finished windows
                self._counts = {k: v for k, v in self._counts.items() if k[2] >= window}
        return None
