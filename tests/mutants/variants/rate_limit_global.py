"""Breaks /req/rate-limits/per-organization-and-type: read limits count all organizations together, so one busy organization limits every other.

A gateway rate limiter keyed by operation type only (one shared bucket per
route class), with the organization left out of the key.
"""

from __future__ import annotations

from apollospace_refserver.ratelimit import RateLimiter

_original = RateLimiter.check


def _check(self: RateLimiter, org_id: str, rate_class: str) -> int | None:
    return _original(self, "every-organization", rate_class)


def patch() -> None:
    RateLimiter.check = _check  # type: ignore[method-assign]
