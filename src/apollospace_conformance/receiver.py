"""The kit's own webhook receiver, and Standard Webhooks signature verification.

A threaded `http.server` bound to `settings.webhook_bind` (default
`127.0.0.1:0`). Each subscription the suite creates gets its own path
(`new_path`), so the deliveries of one test never mix with another's. Every
request is recorded as it arrived: headers, the raw body bytes (the signature
covers them exactly), and the arrival time. `fail_next(path, n)` makes the
next `n` requests to a path answer 500, so the server's retries can be seen.

The server under test reaches the receiver at `public_url`: the
`webhook_public_url` setting when the receiver sits behind a tunnel or a
proxy, otherwise `http://<bound host>:<port>`. Requests are matched on the last
path segment, so a proxy that adds or strips a path prefix still works.

Signatures are verified with the contract's one Standard Webhooks
implementation (apollospace_spec.webhook_signing, built on the
`standardwebhooks` package).
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from apollospace_spec import webhook_signing
from apollospace_spec.webhook_signing import (
    matching_entries,
    secret_key,
    sign,
    signature_entries,
    verify,
)

SECRET_PREFIX = webhook_signing.PREFIX
DEFAULT_TOLERANCE_SECONDS = webhook_signing.TOLERANCE_SECONDS
SignatureProblem = webhook_signing.SignatureError  # why a delivery does not verify

__all__ = ["SECRET_PREFIX", "DEFAULT_TOLERANCE_SECONDS", "SignatureProblem", "matching_entries", "secret_key", "sign",
           "signature_entries", "verify", "ReceivedRequest", "WebhookReceiver"]

PATH_PREFIX = "/apollospace-conformance-hooks/"
MAX_BODY_BYTES = 5 * 1024 * 1024


# --- the receiver -----------------------------------------------------------------------


@dataclass
class ReceivedRequest:
    """One request the receiver got, exactly as it arrived."""

    path: str
    method: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    received_at: float  # time.time()
    answered: int

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def describe(self) -> str:
        shown = {name: self.headers[name] for name in ("webhook-id", "webhook-timestamp", "webhook-signature", "content-type") if name in self.headers}
        return f"{self.method} {self.path} {shown} body={self.body[:300].decode('utf-8', 'replace')!r} (answered {self.answered})"


@dataclass
class _Route:
    requests: list[ReceivedRequest] = field(default_factory=list)
    fail_remaining: int = 0
    fail_status: int = 500


class WebhookReceiver:
    """Records the deliveries of the server under test, one path per subscription."""

    def __init__(self, bind: str = "127.0.0.1:0", public_url: str = "") -> None:
        host, _, port = bind.rpartition(":")
        self._bind = (host.strip("[]"), int(port))
        self._public_url = public_url.rstrip("/")
        self._routes: dict[str, _Route] = defaultdict(_Route)
        self._condition = threading.Condition()
        self._counter = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.stray: list[ReceivedRequest] = []  # requests to paths the kit never handed out

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> WebhookReceiver:
        receiver = self
        host = self._bind[0]
        server_class = ThreadingHTTPServer
        if ":" in host:  # an IPv6 literal
            import socket

            class _V6Server(ThreadingHTTPServer):
                address_family = socket.AF_INET6

            server_class = _V6Server

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "ApolloSpaceConformanceReceiver/1"

            def _body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass  # trailers
                            return b"".join(chunks)[:MAX_BODY_BYTES]
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(min(length, MAX_BODY_BYTES)) if length > 0 else b""

            def _handle(self) -> None:
                body = self._body()
                status = receiver._record(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT = do_GET = do_PATCH = do_DELETE = _handle  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  quiet
                return

        self._server = server_class(self._bind, Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="apollospace-webhook-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- addresses -------------------------------------------------------------------
    @property
    def bound(self) -> tuple[str, int]:
        if self._server is None:
            raise RuntimeError("the receiver is not started")
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def public_url(self) -> str:
        """Where the server under test should send deliveries (no trailing slash)."""
        if self._public_url:
            return self._public_url
        host, port = self.bound
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if address is not None and address.is_unspecified:  # bound to every interface: loopback reaches it
            host = "127.0.0.1" if address.version == 4 else "::1"
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def new_path(self, label: str) -> str:
        """A fresh path no other subscription uses, e.g. /apollospace-conformance-hooks/lead-created-3."""
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in label)[:60] or "hook"
        path = f"{PATH_PREFIX}{safe}-{next(self._counter)}"
        with self._condition:
            self._routes[_key(path)]  # noqa: B018  register the route
        return path

    def url_for(self, path: str) -> str:
        return self.public_url + path

    # --- behaviour and records -------------------------------------------------------
    def fail_next(self, path: str, count: int, status: int = 500) -> None:
        """Answer the next `count` requests to `path` with `status` instead of 204."""
        with self._condition:
            route = self._routes[_key(path)]
            route.fail_remaining, route.fail_status = count, status

    def _record(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> int:
        key = _key(urlsplit(raw_path).path)
        with self._condition:
            route = self._routes.get(key)
            status = 204
            if route is not None and route.fail_remaining > 0:
                route.fail_remaining -= 1
                status = route.fail_status
            request = ReceivedRequest(raw_path, method, headers, body, time.time(), status)
            (route.requests if route is not None else self.stray).append(request)
            self._condition.notify_all()
        return status

    def requests(self, path: str) -> list[ReceivedRequest]:
        with self._condition:
            return list(self._routes[_key(path)].requests)

    def wait_for(self, path: str, predicate: Callable[[list[ReceivedRequest]], bool], timeout: float) -> list[ReceivedRequest]:
        """The requests to `path` once `predicate(requests)` holds, or when `timeout` seconds have passed."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                current = list(self._routes[_key(path)].requests)
                remaining = deadline - time.monotonic()
                if predicate(current) or remaining <= 0:
                    return current
                self._condition.wait(min(remaining, 0.5))


def _key(path: str) -> str:
    """Requests are matched on the last path segment (a proxy may add or strip a prefix)."""
    return path.rstrip("/").rsplit("/", 1)[-1]
