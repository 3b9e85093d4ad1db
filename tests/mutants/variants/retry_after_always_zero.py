"""Breaks /req/rate-limits/429-retry-after: every 429 says `Retry-After: 0` while the limit keeps refusing for seconds.

The partner counts 3,000 reads a day per organization (one comes back every
29 s once they are spent), and its gateway fills Retry-After from a field it
never sets, so every refusal invites an immediate retry that is refused again.
The header is present and in whole seconds; only its value is a lie.
"""

from __future__ import annotations

from apollospace_refserver import Settings
from tests.mutants.asgi import ASGIApp, Exchange, rewrite_responses

DAY_SECONDS = 24 * 3600.0


def configure(settings: Settings) -> Settings:
    settings.rate_limits = {**settings.rate_limits, "read": 3000}
    settings.rate_window_seconds = DAY_SECONDS  # every limit per day: one read back every 29 s, a write every 58 s
    return settings


def _transform(exchange: Exchange) -> None:
    if exchange.status == 429:
        exchange.headers["retry-after"] = "0"


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_responses(app, _transform)
