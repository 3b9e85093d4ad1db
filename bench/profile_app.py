"""The reference server's own CPU per request, in process, without HTTP (no load generator, no sockets).

    .venv/bin/python bench/profile_app.py [get list create] [--requests 2000] [--profile create]

Builds the reference app on an in-memory database and calls it as an ASGI
application, the way uvicorn would, for the operations the wrk bench sends
(same bodies, a fresh Idempotency-Key per create). It prints the CPU time per
request (process time, best of three rounds): steadier than req/s on a shared
machine, and the part of a request's cost that is the server's own code, not
uvicorn's or the kernel's. `--profile OP` adds cProfile's top functions for OP.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from apollospace_refserver.app import create_app
from apollospace_refserver.cli import credentials
from apollospace_refserver.config import Settings

Call = Callable[[], Awaitable[tuple[int, bytes]]]
UNLIMITED = {"read": 10**9, "write": 10**9, "billable": 10**9}


class InProcessClient:
    """Sends requests to an ASGI app as one tenant's owner."""

    def __init__(self, app: Any, token: str, organization_id: str) -> None:
        self.app = app
        self.base = [(b"authorization", f"Bearer {token}".encode()), (b"x-organization-id", organization_id.encode()), (b"host", b"bench")]

    async def call(self, method: str, path: str, query: bytes = b"", body: bytes = b"", extra: tuple[tuple[bytes, bytes], ...] = ()) -> tuple[int, bytes]:
        sent: list[dict[str, Any]] = []
        inbox = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            return inbox.pop() if inbox else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        headers = self.base + list(extra)
        if body:
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "http",
            "method": method, "path": path, "raw_path": path.encode(), "query_string": query, "root_path": "",
            "headers": headers, "server": ("bench", 80), "client": ("127.0.0.1", 1),
        }
        await self.app(scope, receive, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


async def operations(client: InProcessClient) -> dict[str, Call]:
    status, page = await client.call("GET", "/v1/pipelines")
    if status != 200:
        raise SystemExit(f"profile_app: GET /pipelines answered {status}")
    pipeline = json.loads(page)["items"][0]["id"]

    def create() -> Awaitable[tuple[int, bytes]]:
        n = uuid.uuid4().hex
        body = {"contact_name": f"Bench Lead {n}", "company_name": "Bench Inc", "pipeline_id": pipeline,
                "email": f"bench{n}@example.com", "tags": ["bench"], "value_cents": 100000}
        return client.call("POST", "/v1/leads", body=json.dumps(body).encode(), extra=((b"idempotency-key", str(uuid.uuid4()).encode()),))

    lead = ""
    for _ in range(40):  # a full first page for `list`, as the wrk bench seeds
        status, created = await create()
        if status != 201:
            raise SystemExit(f"profile_app: POST /leads answered {status}: {created[:200]!r}")
        lead = json.loads(created)["id"]
    return {
        "get": lambda: client.call("GET", f"/v1/leads/{lead}"),
        "list": lambda: client.call("GET", "/v1/leads", b"limit=20"),
        "create": create,
    }


async def cpu_per_request(call: Call, requests: int, rounds: int = 3) -> float:
    """Microseconds of process CPU time per request, the best of `rounds`."""
    status, body = await call()
    if status >= 300:
        raise SystemExit(f"profile_app: the operation answered {status}: {body[:200]!r}")
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(requests):
            await call()
        best = min(best, (time.process_time() - started) / requests * 1e6)
    return best


async def main_async(args: argparse.Namespace) -> None:
    app = create_app(Settings(database=":memory:", rate_limits=dict(UNLIMITED)))
    tenant = credentials(app.state.services.tokens, "http://bench/v1")["tenant_a"]
    ops = await operations(InProcessClient(app, tenant["token"], tenant["organization_id"]))
    for name in args.operations or list(ops):
        print(f"{name:7} {await cpu_per_request(ops[name], args.requests):7.0f} us CPU per request (best of 3 x {args.requests})")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            await ops[args.profile]()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("operations", nargs="*", metavar="get|list|create", help="default: all three")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--profile", choices=("get", "list", "create"))
    args = parser.parse_args()
    unknown = sorted(set(args.operations) - {"get", "list", "create"})
    if unknown:
        parser.error(f"unknown operation {unknown[0]!r}; choose from get, list, create")
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
