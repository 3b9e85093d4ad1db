"""Breaks /req/rate-limits/per-organization-and-type: billable calls share the write bucket, so invoking agents blocks every write.

The partner's limiter knows two classes, reads and writes, and counts
invokeAgent (a POST) as a write; its write limit is 300 a minute. An
organization that invokes agents in a loop can then no longer create a lead.
Reads keep their own bucket.
"""

from __future__ import annotations

from apollospace_refserver import Settings
from apollospace_refserver.ratelimit import RateLimiter

_original = RateLimiter.check


def configure(settings: Settings) -> Settings:
    settings.rate_limits = {**settings.rate_limits, "write": 300}
    return settings


def _check(self: RateLimiter, org_id: str, rate_class: str) -> int | None:
    return _original(self, org_id, "write" if rate_class == "billable" else rate_class)


def patch() -> None:
    RateLimiter.check = _check  # type: ignore[method-assign]
