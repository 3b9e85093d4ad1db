"""Everything one server instance shares between requests and workers."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from apollospace_refserver.auth import SigningKeys, TokenAuthority
from apollospace_refserver.config import Settings
from apollospace_refserver.contract import Contract
from apollospace_refserver.db import Database
from apollospace_refserver.idempotency import IdempotencyStore
from apollospace_refserver.pagination import CursorCodec
from apollospace_refserver.ratelimit import RateLimiter
from apollospace_refserver.worker_tables import create_worker_tables


@dataclass
class Services:
    settings: Settings
    db: Database
    contract: Contract
    tokens: TokenAuthority
    cursors: CursorCodec
    rate_limiter: RateLimiter
    idempotency: IdempotencyStore

    @classmethod
    def build(cls, settings: Settings) -> Services:
        db = Database(settings.database)
        create_worker_tables(db)
        if settings.in_memory:
            keys = SigningKeys.generate()
            cursor_secret = settings.cursor_secret or secrets.token_bytes(32)
        else:
            keys = SigningKeys.load_or_create(Path(settings.data_dir))
            cursor_secret = settings.cursor_secret or _persistent_secret(Path(settings.data_dir) / "cursor-secret")
        return cls(
            settings=settings,
            db=db,
            contract=Contract(),
            tokens=TokenAuthority(keys, settings.issuer, settings.audience),
            cursors=CursorCodec(cursor_secret),
            rate_limiter=RateLimiter(settings.rate_limits, settings.rate_window_seconds),
            idempotency=IdempotencyStore(db, settings.idempotency_retention_seconds),
        )


def _persistent_secret(path: Path) -> bytes:
    if path.is_file():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(32)
    path.write_bytes(secret)
    path.chmod(0o600)
    return secret
