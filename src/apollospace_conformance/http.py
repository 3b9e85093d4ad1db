"""The kit's only way to reach the server under test: budgeted, paced, timed, recorded HTTP.

A request the target leaves unanswered (a timeout, a reset connection, bytes
that are not HTTP) is judged by `liveness`: the test fails under
/req/responses/timely and the run goes on, unless a liveness probe finds the
target gone, which ends the run (TargetUnreachable).
"""

from __future__ import annotations

import email.utils
import json
import shlex
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import httpx

from apollospace_conformance.masking import mask_headers, mask_text, mask_value

_TRANSPORT_HEADERS = {"host", "content-length", "accept-encoding", "connection", "user-agent", "accept"}


# What a request the target leaves without a complete HTTP answer raises: timeouts, resets, bytes that are not HTTP, a body that does not decode.
UNANSWERED = (httpx.TransportError, httpx.DecodingError)
MAX_RATE_LIMIT_RETRIES = 3
MAX_RETRY_AFTER_SECONDS = 65.0
FORGED_TOKEN_VARIABLE = "APOLLOSPACE_CONFORMANCE_FORGED_TOKEN"  # what a reproduction shows for a tampered copy of a secret


def retry_after_seconds(value: str, now: float | None = None) -> float | None:
    """Retry-After in seconds: delay-seconds, or an HTTP date (RFC 9110) counted from now; None when it is neither."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT; a zone-less one is read as such
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class BudgetExhausted(Exception):
    """The run reached --max-requests or --max-duration; remaining tests are skipped, not failed."""


class TargetUnreachable(Exception):
    """The server under test stopped answering (liveness probes failed in a row); the run ends with a partial report."""


@dataclass(repr=False)
class Exchange:
    """One request and its response, as a report shows them (secrets redacted).

    Its repr is what pytest shows of it (assertion rewriting, `-l` locals): it
    masks the credential headers and secret-named body fields.
    """

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: Any
    status: int
    response_headers: dict[str, str]
    response_body: Any
    raw_body: bytes = field(repr=False, default=b"")
    sent_body: bytes | None = field(repr=False, default=None)
    token_variable: str | None = None  # the shell variable standing for a secret token in reproductions

    def __repr__(self) -> str:
        body = mask_value(self.response_body) if self.response_body is not None else self.raw_body[:200].decode("utf-8", "replace")
        return (f"Exchange({self.method} {mask_text(self.url)} -> {self.status}, request_headers={mask_headers(self.request_headers)!r}, "
                f"request_body={mask_value(self.request_body)!r}, response_headers={mask_headers(self.response_headers)!r}, "
                f"response_body={mask_text(repr(body))[:2000]})")

    def curl(self) -> str:
        """A runnable reproduction; the token is read from $APOLLOSPACE_CONFORMANCE_TOKEN_A (or its role's variable), never printed."""
        words = ["curl", "-i", "-X", self.method, shlex.quote(self.url)]
        for name, value in self.request_headers.items():
            if name.lower() in _TRANSPORT_HEADERS:
                continue
            if name.lower() == "authorization" and self.token_variable is not None:
                words += ["-H", f'"Authorization: Bearer ${self.token_variable}"']
                continue
            words += ["-H", shlex.quote(f"{name}: {value}")]
        if self.request_body is not None:
            words += ["--data", shlex.quote(json.dumps(self.request_body, separators=(",", ":"), ensure_ascii=False))]
        elif self.sent_body:
            words += ["--data-binary", shlex.quote(self.sent_body.decode("utf-8", "replace"))]
        return " ".join(words)

    def describe(self) -> str:
        body = self.response_body if self.response_body is not None else self.raw_body[:200].decode("utf-8", "replace")
        text = json.dumps(body, ensure_ascii=False)[:600] if not isinstance(body, str) else body[:600]
        return f"{self.method} {self.url} -> {self.status} {text}"


class Pacer:
    """Counts every request of the run against the budgets (requests and time) and paces them to --max-rate.

    It also carries the liveness verdict: once the target is declared unreachable,
    every later request of the run fails at once instead of waiting out a timeout.
    """

    def __init__(self, max_requests: int, max_rate: float, max_duration: float = 0.0) -> None:
        self.max_requests = max_requests
        self.max_duration = max_duration  # seconds from the pacer's creation; 0: no limit
        self.interval = 1.0 / max_rate if max_rate > 0 else 0.0
        self.sent = 0
        self.unreachable: str | None = None  # why the target was declared gone
        self.exhausted: str | None = None  # which budget ran out first, when one did
        self._started = time.monotonic()
        self._reserve_open = False
        self._next = 0.0
        self._lock = threading.Lock()

    def open_reserve(self, requests: int) -> None:
        """Let `requests` more through, past both budgets: cleanup must run even when the run's time is up."""
        with self._lock:
            self.max_requests = max(self.max_requests, self.sent) + requests
            self._reserve_open = True

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def acquire(self) -> None:
        if self.unreachable is not None:
            raise TargetUnreachable(self.unreachable)
        with self._lock:
            reason = None
            if self.sent >= self.max_requests:
                reason = f"request budget of {self.max_requests} (--max-requests) reached"
            elif self.max_duration and not self._reserve_open and self.elapsed > self.max_duration:
                reason = f"time budget of {self.max_duration:g} s (--max-duration) reached"
            if reason is not None:
                self.exhausted = self.exhausted or reason  # the first budget that ran out, for the report
                raise BudgetExhausted(reason)
            self.sent += 1
            wait = self._next - time.monotonic()
            self._next = max(self._next, time.monotonic()) + self.interval
        if wait > 0:
            time.sleep(wait)


class KitClient:
    """An HTTP client bound to one identity (token and organization) of the server under test."""

    def __init__(self, base_url: str, pacer: Pacer, *, token: str | None, org_id: str | None, timeout: float,
                 observer: Callable[[Exchange], None] | None = None, secrets: dict[str, str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.secrets = dict(secrets or {})  # secret token -> the shell variable reproductions show instead
        self.pacer = pacer
        self.token = token
        self.org_id = org_id
        self.observer = observer
        self.timeout = timeout
        self._http = httpx.Client(timeout=timeout)

    def identity_headers(self) -> dict[str, str]:
        headers = {}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.org_id is not None:
            headers["X-Organization-Id"] = self.org_id
        return headers

    def with_identity(self, *, token: str | None | object = ..., org_id: str | None | object = ...) -> KitClient:
        """The same client acting as someone else (or with a header removed: None)."""
        return KitClient(
            self.base_url, self.pacer,
            token=self.token if token is ... else token,  # type: ignore[arg-type]
            org_id=self.org_id if org_id is ... else org_id,  # type: ignore[arg-type]
            timeout=self.timeout, observer=self.observer, secrets=self.secrets,
        )

    def request(self, method: str, path: str, *, json_body: Any = None, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                raw_body: bytes | None = None, honor_retry_after: bool = True) -> Exchange:
        """Send one request. A 429 is waited out (Retry-After, bounded) and retried, unless `honor_retry_after` is false."""
        for _ in range(MAX_RATE_LIMIT_RETRIES):
            exchange = self._send(method, path, json_body, params, headers, raw_body)
            if exchange.status != 429 or not honor_retry_after:
                return exchange
            wait = retry_after_seconds(exchange.response_headers.get("retry-after", ""))
            time.sleep(min(1.0 if wait is None else wait, MAX_RETRY_AFTER_SECONDS))
        return exchange

    def _send(self, method: str, path: str, json_body: Any, params: dict[str, Any] | None, headers: dict[str, str] | None, raw_body: bytes | None) -> Exchange:
        self.pacer.acquire()
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        sent_headers = {**self.identity_headers(), **(headers or {})}
        content = raw_body if raw_body is not None else (json.dumps(json_body).encode() if json_body is not None else None)
        if content is not None and "Content-Type" not in sent_headers:
            sent_headers["Content-Type"] = "application/json"
        request = self._http.build_request(method, url, params=params, headers=sent_headers, content=content)
        unsent = Exchange(method=method, url=str(request.url), request_headers=dict(sent_headers), request_body=json_body, status=0,
                          response_headers={}, response_body=None, sent_body=content,
                          token_variable=self._token_variable(sent_headers.get("Authorization", "")))
        try:
            response, raw = self._receive(request)
        except UNANSWERED as exc:
            from apollospace_conformance import (
                liveness,  # imported here: liveness imports this module
            )

            raise liveness.judge_unanswered(self, method, str(request.url), exc, unsent.curl()) from None
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        exchange = Exchange(
            method=method, url=str(request.url),
            request_headers=dict(sent_headers), request_body=json_body,
            status=response.status_code, response_headers={k.lower(): v for k, v in response.headers.items()},
            response_body=body, raw_body=raw, sent_body=content, token_variable=unsent.token_variable,
        )
        if self.observer is not None:
            self.observer(exchange)
        return exchange

    def _receive(self, request: httpx.Request) -> tuple[httpx.Response, bytes]:
        """The response and its whole body, within `timeout` seconds in total (a slow trickle of bytes counts as no answer)."""
        deadline = time.monotonic() + self.timeout
        response = self._http.send(request, stream=True)
        try:
            chunks = []
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout(f"the body was still arriving after {self.timeout:g} s", request=request)
            return response, b"".join(chunks)
        finally:
            response.close()

    def _token_variable(self, authorization: str) -> str | None:
        """The variable a reproduction shows for this token: a secret's name, or FORGED for a secret's near-copy."""
        token = authorization.removeprefix("Bearer ").strip()
        if token in self.secrets:
            return self.secrets[token]
        signature = token.rsplit(".", 1)[-1]
        for secret in self.secrets:
            secret_signature = secret.rsplit(".", 1)[-1]
            if len(signature) >= 8 and (signature[:8] == secret_signature[:8] or signature[-8:] == secret_signature[-8:]):
                return FORGED_TOKEN_VARIABLE  # a tampered copy of a secret would leak most of it
        return None

    def get(self, path: str, **kwargs: Any) -> Exchange:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json_body: Any = None, **kwargs: Any) -> Exchange:
        return self.request("POST", path, json_body=json_body, **kwargs)

    def patch(self, path: str, json_body: Any = None, **kwargs: Any) -> Exchange:
        return self.request("PATCH", path, json_body=json_body, **kwargs)

    def put(self, path: str, json_body: Any = None, **kwargs: Any) -> Exchange:
        return self.request("PUT", path, json_body=json_body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Exchange:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self._http.close()
