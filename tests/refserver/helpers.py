"""Helpers the reference-server tests share: schema-checked answers, runs, the ledger, a receiver."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx

from apollospace_spec import bundled_spec
from apollospace_spec.validation import SchemaValidator, describe

from .conftest import LiveServer

VALIDATOR = SchemaValidator(bundled_spec())
TERMINAL = {"succeeded", "failed", "canceled", "blocked"}
NO_CAPS: dict[str, Any] = {"organization_monthly": None, "agent_daily_default": 5000, "agents": [], "user_agent_monthly": []}


# --- answers checked against the spec ------------------------------------------------------


def valid(schema: str, body: Any) -> Any:
    """`body`, after checking that it matches the component schema `schema` exactly."""
    errors = [describe(e) for e in VALIDATOR.for_pointer(f"#/components/schemas/{schema}").iter_errors(body)]
    assert not errors, f"not a valid {schema}: {errors}"
    return body


def conforms(response: httpx.Response, schema: str, status: int) -> Any:
    """The response's JSON body, after checking its status and that it matches `schema` exactly."""
    assert response.status_code == status, response.text
    return valid(schema, response.json())


def error_code(response: httpx.Response, status: int) -> str:
    """The `error.code` of a valid `Error` answer with `status`."""
    return str(conforms(response, "Error", status)["error"]["code"])


# --- agents, runs and Stars ---------------------------------------------------------------


def agent_id(client: httpx.Client, name: str) -> str:
    return str(next(a["id"] for a in conforms(client.get("/agents"), "AgentPage", 200)["items"] if a["name"] == name))


def wait_terminal(client: httpx.Client, run_id: str, timeout: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        run = conforms(client.get(f"/runs/{run_id}"), "Run", 200)
        if run["status"] in TERMINAL:
            return dict(run)
        assert time.monotonic() < deadline, f"run still {run['status']}"
        time.sleep(0.02)


def wait_billed(client: httpx.Client, run_id: str, timeout: float = 10) -> None:
    """Wait until the run's trace has a step that cost Stars (the run is live and spending)."""
    deadline = time.monotonic() + timeout
    while not any(s["stars_cost"] for s in conforms(client.get(f"/runs/{run_id}/trace"), "RunTrace", 200)["steps"]):
        assert time.monotonic() < deadline
        time.sleep(0.01)


def all_runs(client: httpx.Client) -> list[dict[str, Any]]:
    return list(conforms(client.get("/runs", params={"limit": 200}), "RunPage", 200)["items"])


def settle(client: httpx.Client) -> None:
    """Wait until no run of the organization is live, so the balance holds still."""
    for run in all_runs(client):
        wait_terminal(client, run["id"])


def balance(client: httpx.Client) -> dict[str, Any]:
    return dict(conforms(client.get("/stars/balance"), "StarsBalance", 200))


def put_caps(client: httpx.Client, **caps: Any) -> dict[str, Any]:
    """Replace the Stars caps: `caps` over NO_CAPS (so no argument lifts every cap)."""
    return dict(conforms(client.put("/stars/caps", json={**NO_CAPS, **caps}), "StarsCaps", 200))


def ledger(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    """Every ledger line matching `params`, newest first, walking all pages."""
    lines: list[dict[str, Any]] = []
    query = {"limit": 200, **params}
    while True:
        page = conforms(client.get("/stars/transactions", params=query), "StarsTransactionPage", 200)
        lines += page["items"]
        if page["next_cursor"] is None:
            return lines
        query["cursor"] = page["next_cursor"]


# --- webhooks -----------------------------------------------------------------------------


class Receiver:
    """A webhook endpoint on loopback (at `path`) that records every JSON body it is sent."""

    def __init__(self, path: str) -> None:
        self.bodies: list[dict[str, Any]] = []
        bodies = self.bodies

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                bodies.append(json.loads(self.rfile.read(int(self.headers.get("content-length") or 0))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.bodies) < count:
            assert time.monotonic() < deadline, f"{len(self.bodies)} of {count} deliveries arrived"
            time.sleep(0.02)
        return list(self.bodies)


@contextlib.contextmanager
def subscribed(live: LiveServer, path: str, events: list[str]) -> Iterator[Receiver]:
    """A Receiver at `path` subscribed to Acme's `events` while the block runs; then unsubscribed and stopped."""
    receiver = Receiver(path)
    with live.client() as client:
        response = client.post("/webhooks", json={"url": receiver.url, "events": events})
        assert response.status_code == 201, response.text
        webhook_id = response.json()["id"]
    try:
        yield receiver
    finally:
        with live.client() as client:
            client.delete(f"/webhooks/{webhook_id}")
        receiver.server.shutdown()
