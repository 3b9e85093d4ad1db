"""A real reference server on loopback for each test module, in memory."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
import uvicorn

from apollospace_refserver import Settings, create_app
from apollospace_refserver.edge import edge_config
from apollospace_refserver.seed import ORGANIZATIONS, USERS, user_by_key
from apollospace_refserver.services import Services


@dataclass
class LiveServer:
    """A running server: its base URL, its services (for minting tokens) and a client factory."""

    base_url: str
    services: Services
    server: uvicorn.Server
    thread: threading.Thread

    def token(self, user_key: str = "olivia", **kwargs: Any) -> str:
        return self.services.tokens.mint(user_by_key(user_key).id, **kwargs)

    def client(self, user_key: str = "olivia", org_key: str = "acme", **headers: str) -> httpx.Client:
        org = next(o for o in ORGANIZATIONS if o.key == org_key)
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.token(user_key)}", "X-Organization-Id": org.id, **headers},
            timeout=10,
        )

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_server(settings: Settings) -> LiveServer:
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # IPPROTO_TCP: asyncio then sets TCP_NODELAY
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(edge_config(app, log_level="warning", access_log=False))  # the CLI's protocol and limits
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("reference server did not start")
        time.sleep(0.01)
    return LiveServer(f"http://127.0.0.1:{port}/v1", app.state.services, server, thread)


FAST = Settings(database=":memory:", webhook_retry_schedule=(0.2, 0.4), run_step_seconds=0.01, worker_poll_seconds=0.01, allow_private_webhooks=False)


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    """An in-memory server with fast workers, shared by one test module."""
    server = start_server(replace(FAST))
    yield server
    server.stop()


@pytest.fixture()
def pipeline_id(live: LiveServer) -> str:
    """The id of Acme's seeded default pipeline."""
    with live.client() as client:
        return str(client.get("/pipelines").json()["items"][0]["id"])


__all__ = ["FAST", "ORGANIZATIONS", "USERS", "LiveServer", "start_server"]
