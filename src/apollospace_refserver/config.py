"""Settings of one reference server instance."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# Requests per window, per organization and operation type (x-apollospace-rate-class).
DEFAULT_RATE_LIMITS = {"read": 3000, "write": 1500, "billable": 300}
# Seconds between webhook attempts: the spec's documented schedule.
DOCUMENTED_RETRY_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0)


@dataclass
class Settings:
    """Where the server keeps its data and how it behaves.

    `database` is a SQLite file path, or ":memory:" for a throwaway server.
    """

    database: str = ".data/apollospace.sqlite3"
    data_dir: Path = Path(".data")
    issuer: str = "https://auth.apollospace.local/"
    audience: str = "apollospace-api"
    rate_limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    rate_window_seconds: float = 60.0
    webhook_retry_schedule: tuple[float, ...] = DOCUMENTED_RETRY_SCHEDULE
    webhook_timeout_seconds: float = 15.0
    allow_private_webhooks: bool = False
    idempotency_retention_seconds: float = 24 * 3600.0
    run_step_seconds: float = 0.05
    worker_poll_seconds: float = 0.05
    cursor_secret: bytes | None = None

    @property
    def in_memory(self) -> bool:
        return self.database == ":memory:"
