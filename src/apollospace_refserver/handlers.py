"""What a handler receives and returns, and the registry of handlers by operationId."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from apollospace_refserver.errors import ApiError

if TYPE_CHECKING:
    from apollospace_refserver.contract import OperationSpec
    from apollospace_refserver.services import Services


@dataclass
class Call:
    """One authenticated, authorized, validated call."""

    services: Services
    conn: sqlite3.Connection
    operation: OperationSpec
    org_id: str
    user_id: str
    role: str
    path: dict[str, Any]
    query: dict[str, Any]
    body: Any
    request_id: str

    def require_role(self, *roles: str) -> None:
        if self.role not in roles:
            raise ApiError(403, "insufficient_role", f"Your role ({self.role}) does not allow this action.")


@dataclass
class Result:
    body: Any = None
    status: int | None = None  # None: the operation's documented success status
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Call], Result]
HANDLERS: dict[str, Handler] = {}


def handles(operation_id: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        HANDLERS[operation_id] = function
        return function

    return register


# Checks that may wait on the network (a webhook URL's DNS lookup): they run
# before the handler's transaction, so no write lock is held while they wait.
Precheck = Callable[["Services", Any], None]
PRECHECKS: dict[str, Precheck] = {}


def prechecks(*operation_ids: str) -> Callable[[Precheck], Precheck]:
    def register(function: Precheck) -> Precheck:
        for operation_id in operation_ids:
            PRECHECKS[operation_id] = function
        return function

    return register
