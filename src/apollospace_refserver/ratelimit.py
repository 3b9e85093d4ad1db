"""Rate limits per organization and operation type: one token bucket each.

A bucket holds `limit` tokens and refills at `limit / window` tokens a second,
so any burst above the limit is refused, whenever it starts; Retry-After is
the time until the next token.
"""

from __future__ import annotations

import math
import threading
import time


class RateLimiter:
    def __init__(self, limits: dict[str, int], window_seconds: float) -> None:
        self._limits = dict(limits)
        self._window = window_seconds
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # (tokens, when)
        self._lock = threading.Lock()

    def check(self, org_id: str, rate_class: str) -> int | None:
        """None when the call may proceed (a token is taken), else the seconds to wait (Retry-After)."""
        limit = self._limits.get(rate_class)
        if limit is None:
            return None
        rate = limit / self._window
        now = time.monotonic()
        with self._lock:
            tokens, when = self._buckets.get((org_id, rate_class), (float(limit), now))
            tokens = min(float(limit), tokens + (now - when) * rate)
            if tokens < 1.0:
                self._buckets[(org_id, rate_class)] = (tokens, now)
                return max(1, math.ceil((1.0 - tokens) / rate)) if rate > 0 else max(1, math.ceil(self._window))
            self._buckets[(org_id, rate_class)] = (tokens - 1.0, now)
        return None
