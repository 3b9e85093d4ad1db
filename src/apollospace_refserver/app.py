"""The ASGI app: one dispatcher applies the conventions in the documented order.

Order: route, bearer token (401), organization header and membership (403),
rate limit (429), request validation (400), role (403), Idempotency-Key, then
the operation's handler inside one database transaction.
"""

from __future__ import annotations

import contextlib
import logging
import re
from types import SimpleNamespace
from typing import Any

from starlette.types import Receive, Scope, Send

from apollospace_refserver import operations  # noqa: F401  registers the handlers
from apollospace_refserver.config import Settings
from apollospace_refserver.contract import OperationSpec, check_query_encoding, validate_request
from apollospace_refserver.deprecation import deprecation_headers
from apollospace_refserver.errors import ApiError, envelope, new_request_id
from apollospace_refserver.fastjson import dumps_bytes
from apollospace_refserver.handlers import HANDLERS, PRECHECKS, Call, Result
from apollospace_refserver.idempotency import StoredResponse, fingerprint
from apollospace_refserver.incoming import Incoming, read_body, send_json, send_response
from apollospace_refserver.inline import run_request
from apollospace_refserver.roles import RoleCache
from apollospace_refserver.seed import seed_if_empty
from apollospace_refserver.services import Services
from apollospace_refserver.workers import Workers

log = logging.getLogger("apollospace_refserver")
PREFIX = "/v1"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class Dispatcher:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._roles = RoleCache(services.db)

    async def respond(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Incoming(scope)
        if request.path == "/healthz":
            return await send_json(send, 200, {}, {"status": "ok"})
        request_id = new_request_id()
        limit = self.services.contract.limits.body_bytes
        body = await read_body(receive, request.header("content-length"), limit)
        if body is None:
            return await send_json(
                send, 413,
                {"X-Request-Id": request_id, "Connection": "close"},  # the rest of the body is never read
                envelope("payload_too_large", f"The request body exceeds {limit} bytes.", request_id),
            )
        # Inline on the loop when the database lock is free and nothing can wait (inline.py).
        stored = await run_request(self.services, request.method, request.path, body, lambda inline: self.handle(request, body, request_id, inline))
        headers = {**stored.headers, **deprecation_headers(self.services.contract, request.method, request.path), "X-Request-Id": request_id}
        content = None if stored.status == 204 or stored.body is None else dumps_bytes(stored.body)
        await send_response(send, stored.status, headers, content)

    def handle(self, request: Incoming, body: bytes, request_id: str, inline: bool = False) -> StoredResponse:
        try:
            return self._handle(request, body, request_id, inline)
        except ApiError as error:
            return StoredResponse(error.status, error.headers, envelope(error.code, error.message, request_id, error.details))
        except Exception:
            log.exception("internal error in %s %s (%s)", request.method, request.path, request_id)
            return StoredResponse(500, {}, envelope("internal_error", "An unexpected error occurred; quote the request_id to support.", request_id))

    def _handle(self, request: Incoming, body: bytes, request_id: str, inline: bool) -> StoredResponse:
        services = self.services
        path = request.path
        if not path.startswith(PREFIX + "/"):
            raise ApiError(404, "route_not_found", "No such endpoint; public endpoints live under /v1/.")
        routed = services.contract.route(request.method, path[len(PREFIX):])
        if isinstance(routed, list):
            if not routed:
                raise ApiError(404, "route_not_found", "No such endpoint.")
            raise ApiError(405, "method_not_allowed", "This endpoint does not support that method.", {"Allow": ", ".join(sorted(set(routed)))})
        op, raw_path = routed
        user_id = services.tokens.verify(request.header("authorization"))
        org_id, role = self._membership(user_id, request.header("x-organization-id"))
        retry_after = services.rate_limiter.check(org_id, op.rate_class)
        if retry_after is not None:
            raise ApiError(429, "rate_limited", f"Rate limit of {op.rate_class} operations reached; retry later.", {"Retry-After": str(retry_after)})
        headers = request.headers
        check_query_encoding(request.query_string)
        path_params, query, parsed = validate_request(
            op, raw_path, request.query_items(), headers, body, request.header("content-type") or "",
            services.contract.limits,
        )
        if role not in op.roles:
            raise ApiError(403, "insufficient_role", f"Your role ({role}) does not allow this action.")
        key = headers.get("idempotency-key") if op.method == "POST" else None
        if key is None:
            return self._run(op, org_id, user_id, role, path_params, query, parsed, request_id, None)
        print_ = fingerprint(user_id, op.method, path, parsed)
        # Inline, this request holds the database lock from claim to completion, so nothing can
        # see the claim before its effect: both go in one transaction (one commit, not two),
        # and a failure rolls the claim back with the rest.
        with services.db.transaction() if inline else contextlib.nullcontext():
            replay = services.idempotency.claim(org_id, key, print_)
            if replay is not None:
                return StoredResponse(replay.status, {**replay.headers, "Idempotent-Replayed": "true"}, replay.body)
            try:
                return self._run(op, org_id, user_id, role, path_params, query, parsed, request_id, key)
            except BaseException:
                services.idempotency.release(org_id, key)
                raise

    def _membership(self, user_id: str, header: str | None) -> tuple[str, str]:
        org_id = header.strip().lower() if header and _UUID.match(header.strip()) else None
        known, role = self._roles.lookup(user_id, org_id)
        if not known:
            raise ApiError(401, "unauthenticated", "The bearer token names an unknown user.")
        if org_id is None:
            raise ApiError(403, "organization_required", "The X-Organization-Id header (an organization UUID) is required.")
        if role is None:
            raise ApiError(403, "organization_forbidden", "You are not a member of this organization.")
        return org_id, str(role)

    def _run(
        self,
        op: OperationSpec,
        org_id: str,
        user_id: str,
        role: str,
        path_params: dict[str, Any],
        query: dict[str, Any],
        body: Any,
        request_id: str,
        key: str | None,
    ) -> StoredResponse:
        handler = HANDLERS.get(op.operation_id)
        if handler is None:
            raise ApiError(500, "internal_error", f"{op.operation_id} is not implemented.")
        if (precheck := PRECHECKS.get(op.operation_id)) is not None:
            precheck(self.services, body)
        with self.services.db.transaction() as conn:
            call = Call(self.services, conn, op, org_id, user_id, role, path_params, query, body, request_id)
            result: Result = handler(call)
            stored = StoredResponse(result.status or op.success_status, result.headers, result.body)
            if key is not None:
                self.services.idempotency.complete(conn, org_id, key, stored)
        return stored


class ReferenceApp:
    """The ASGI application: every HTTP request goes to the dispatcher, whatever its path.

    No router sits in front (a router's path pattern refuses some paths, such as
    ones holding a newline, with its own plain-text 404); lifespan starts and
    stops the background workers.
    """

    def __init__(self, services: Services) -> None:
        self.state = SimpleNamespace(services=services)
        self._dispatcher = Dispatcher(services)
        self._workers = Workers(services)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self._workers.start()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    self._workers.stop()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        elif scope["type"] == "http":
            await self._dispatcher.respond(scope, receive, send)


def create_app(settings: Settings | None = None) -> ReferenceApp:
    services = Services.build(settings or Settings())
    seed_if_empty(services)
    services.idempotency.release_abandoned()
    return ReferenceApp(services)
