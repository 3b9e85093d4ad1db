"""A correct server whose rate limits are out of reach of the kit's probe: it never answers 429 in a run.

Nothing is broken, so nothing may FAIL; but the kit saw no 429, so it cannot
claim the 429 requirement PASSed either.
"""

from __future__ import annotations

import dataclasses

from apollospace_refserver import Settings

OUT_OF_REACH = 10_000_000  # requests per window, per organization and operation type


def configure(settings: Settings) -> Settings:
    return dataclasses.replace(settings, rate_limits={name: OUT_OF_REACH for name in settings.rate_limits})
