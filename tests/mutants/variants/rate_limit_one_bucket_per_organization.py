"""Breaks /req/rate-limits/per-organization-and-type: one bucket per organization counts reads, writes and billable calls together.

The partner's gateway keys its limiter by organization only, with the read
limit for every call: an organization that reads a lot can no longer write
nor invoke an agent until its reads slow down.
"""

from __future__ import annotations

from apollospace_refserver.ratelimit import RateLimiter

_original = RateLimiter.check


def _check(self: RateLimiter, org_id: str, rate_class: str) -> int | None:
    return _original(self, org_id, "read")


def patch() -> None:
    RateLimiter.check = _check  # type: ignore[method-assign]
