"""What a difference is: its location, whether it breaks /v1, why, and which promise it breaks."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Promise(StrEnum):
    """The promises of /v1 (`/req/versioning/v2-for-breaking`) a breaking change can break."""

    OPERATIONS = "every /v1 operation and event stays until its announced sunset"
    REQUESTS = "a request that /v1 accepted is still accepted"
    RESPONSES = "a response stays within what /v1 documented: same fields, types and values"
    STATUS_CODES = "a /v1 operation answers only the status codes and error codes it documented"
    ACCESS = "the credentials, roles and rate limits that worked on /v1 keep working"
    BASE_URL = "the /v1 base URL stays where it is"


@dataclass(frozen=True)
class Change:
    """One classified difference. `promise` is set on breaking changes only."""

    kind: str
    operation: str
    pointer: str
    reason: str
    breaking: bool
    promise: Promise | None = None
    deprecation: bool = False

    def line(self) -> str:
        where = f"{self.operation} {self.pointer}".strip()
        text = f"{where}: {self.reason}"
        if self.promise is not None:
            text += f" [breaks: {self.promise.value}]"
        return text
