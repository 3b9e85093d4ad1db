"""The Apollo Space reference server: a stateful implementation of the v1 contract.

It validates every request against the bundled spec (no second copy of a
schema), stores everything in SQLite, and runs agent runs, imports and webhook
deliveries in background workers. It is the conformance kit's default target
and a local stand-in for integrators.
"""

from __future__ import annotations

from apollospace_refserver.app import create_app
from apollospace_refserver.config import Settings

__all__ = ["Settings", "create_app"]
