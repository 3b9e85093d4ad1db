"""The delivery worker: POSTs due deliveries, signed per Standard Webhooks, and logs every attempt.

A dispatcher claims due deliveries and hands each to a sender thread of
its own; each attempt records its own outcome as soon as it ends. At most
`PER_ORGANIZATION` attempts of one organization run at once (and
`MAX_CONCURRENT` in all, offered to the organizations in turn), so one
organization's slow or dead receiver occupies only its own slots: another
organization's delivery waits for nothing but its own attempt.

Every attempt has one total deadline (`webhook_timeout_seconds`, 15 s by
default, as the spec documents) covering the host lookup, connect, TLS, the
request, the response headers and the body: each network operation gets only
the time left, so a receiver that trickles its answer a byte at a time is cut
at the deadline, not allowed a fresh timeout per read.

Any 2xx acknowledges a delivery; anything else schedules the next attempt
`webhook_retry_schedule[n - 1]` seconds after attempt `n` ended, and a failure
after the last scheduled retry fails the delivery.

Every attempt carries the same `webhook-id` (the event id) and body, a fresh
`webhook-timestamp`, and one `v1` signature per signing secret: the current
one, plus the previous one while its rotation overlap lasts.

Connections go through `VettedBackend`, which resolves the host, checks every
address with the URL policy and connects only to a vetted address, so a host
name that resolves elsewhere after the subscription was created cannot reach
a refused address; such an attempt is not sent and is logged with an error.
No proxy from the environment is used and redirects are not followed.
"""

from __future__ import annotations

import logging
import sqlite3
import ssl
import threading
import time
import typing
from dataclasses import dataclass
from datetime import timedelta

import httpcore
import httpx

from apollospace_refserver.db import dumps, loads
from apollospace_refserver.fairness import RoundRobin
from apollospace_refserver.services import Services
from apollospace_refserver.timeutil import iso, now, now_iso, parse_instant
from apollospace_refserver.url_policy import HostNotResolved, UrlNotAllowed, UrlPolicy
from apollospace_refserver.webhook_signing import delivery_headers
from apollospace_refserver.workers import worker

log = logging.getLogger("apollospace_refserver.webhooks")
PER_ORGANIZATION = 4  # attempts of one organization in flight at once
MAX_CONCURRENT = 32  # attempts in flight at once, all organizations together
PURGE_EVERY_SECONDS = 60.0  # how often deliveries past their retention are deleted
RETENTION = timedelta(days=30)
MAX_RESPONSE_BYTES = 64 * 1024
MAX_ERROR_CHARS = 500
USER_AGENT = "ApolloSpace-Webhooks/1 (reference server)"


def delivery_policy(services: Services) -> UrlPolicy:
    """The reference server accepts loopback receivers; private ranges only when configured."""
    return UrlPolicy(allow_loopback=True, allow_private=services.settings.allow_private_webhooks)


class Deadline:
    """An attempt's total time, counted from its first network operation (the host lookup)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at: float | None = None

    def left(self, timeout: float | None, expired: type[Exception]) -> float:
        """The time an operation may take: `timeout` or what is left, whichever is less; raises `expired` when none is."""
        if self.at is None:
            self.at = time.monotonic() + self.seconds
        left = self.at - time.monotonic()
        if left <= 0:
            raise expired("the attempt's deadline passed")
        return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read, write and TLS handshake gets only the time left before the deadline."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._stream, self._deadline = stream, deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._deadline.left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._deadline.left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = self._deadline.left(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, left), self._deadline)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._stream.get_extra_info(info)


class VettedBackend(httpcore.SyncBackend):
    """Connects only to addresses the URL policy allows, checked at connection time, within the deadline."""

    def __init__(self, policy: UrlPolicy, deadline: Deadline) -> None:
        self.policy = policy
        self.deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        # raises before any connection is opened
        addresses = self.policy.vet_host(host, port, timeout=self.deadline.left(timeout, httpcore.ConnectTimeout))
        failure: Exception | None = None
        for address in addresses:
            try:
                left = self.deadline.left(timeout, httpcore.ConnectTimeout)
                stream = super().connect_tcp(address, port, left, local_address, socket_options)
                return DeadlineStream(stream, self.deadline)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure


class VettedTransport(httpx.HTTPTransport):
    """httpx's transport for one attempt, its pool on a `VettedBackend` (TLS still verifies the host name)."""

    def __init__(self, policy: UrlPolicy, deadline: Deadline, ssl_context: ssl.SSLContext) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=1,
            network_backend=VettedBackend(policy, deadline),
        )


@dataclass(frozen=True)
class Job:
    delivery_id: str
    number: int
    url: str
    event_id: str
    body: bytes
    secrets: tuple[str, ...]


def signing_secrets(row: sqlite3.Row, at: str) -> tuple[str, ...]:
    """The subscription's current secret, and the previous one while its overlap lasts."""
    expires = row["previous_secret_expires_at"]
    if row["previous_secret"] and expires and parse_instant(expires) > parse_instant(at):
        return (row["secret"], row["previous_secret"])
    return (row["secret"],)


@worker("webhook-deliveries")
class DeliveryDispatcher:
    """Claims due deliveries within each organization's free slots and sends each on its own thread."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.policy = delivery_policy(services)
        self._ssl_context = httpx.create_ssl_context(trust_env=False)  # built once: loading CAs is slow
        self._in_flight: dict[str, set[str]] = {}  # organization -> ids of its deliveries being attempted
        self._lock = threading.Lock()
        self._turns = RoundRobin()
        self._purged_at = float("-inf")
        self._closed = False

    def tick(self) -> bool:
        """Start an attempt of every due delivery that has a free slot; true when any started."""
        with self._lock:
            busy = {org: list(ids) for org, ids in self._in_flight.items()}
        free = MAX_CONCURRENT - sum(len(ids) for ids in busy.values())
        if free <= 0:
            return False
        stamp = now_iso()
        rows: list[sqlite3.Row] = []
        with self.services.db.transaction() as conn:
            if time.monotonic() - self._purged_at > PURGE_EVERY_SECONDS:
                conn.execute("DELETE FROM deliveries WHERE created_at < ?", (iso(now() - RETENTION),))
                self._purged_at = time.monotonic()
            organizations = [row[0] for row in conn.execute("SELECT DISTINCT org_id FROM webhooks")]
            for org in self._turns.order(organizations):
                slots = min(PER_ORGANIZATION - len(busy.get(org, ())), free - len(rows))
                if slots > 0:
                    rows += due_deliveries(conn, org, stamp, busy.get(org, []), slots)
        if not rows:
            return False
        timeout = self.services.settings.webhook_timeout_seconds
        for row in rows:
            job = Job(
                row["id"],
                len(loads(row["attempts"])) + 1,
                loads(row["doc"])["url"],
                row["event_id"],
                row["payload"].encode("utf-8"),
                signing_secrets(row, stamp),
            )
            with self._lock:
                self._in_flight.setdefault(row["org_id"], set()).add(job.delivery_id)
            # A daemon thread per attempt (their number is bounded by the slots): a stopping
            # server does not wait for a slow receiver, and the unrecorded attempt is retried.
            threading.Thread(
                target=self._deliver, args=(row["org_id"], job, timeout), name="apollospace-delivery", daemon=True
            ).start()
        return True

    def _deliver(self, org: str, job: Job, timeout: float) -> None:
        """One attempt of `job`, recorded; its slot is freed only once the outcome is committed."""
        try:
            deadline = Deadline(timeout)
            with httpx.Client(
                transport=VettedTransport(self.policy, deadline, self._ssl_context),
                timeout=timeout,
                trust_env=False,
                follow_redirects=False,
            ) as client:
                outcome = attempt(client, job, timeout)
            if not self._closed:  # a stopping server leaves the delivery pending: it is retried after a restart
                with self.services.db.transaction() as conn:
                    record(conn, job, outcome, self.services.settings.webhook_retry_schedule)
        except Exception:
            if not self._closed:
                log.exception("webhook delivery %s could not be recorded", job.delivery_id)
        finally:
            with self._lock:
                self._in_flight[org].discard(job.delivery_id)

    def close(self) -> None:
        """Record no more attempts: those under way end by their deadline, their deliveries still pending."""
        self._closed = True


def due_deliveries(
    conn: sqlite3.Connection, org_id: str, stamp: str, in_flight: list[str], limit: int
) -> list[sqlite3.Row]:
    """Up to `limit` of the organization's pending deliveries due at `stamp`, oldest due first, none in flight."""
    return conn.execute(
        "SELECT d.id, d.org_id, d.event_id, d.payload, d.attempts, w.doc, w.secret, w.previous_secret,"
        " w.previous_secret_expires_at"
        " FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id"
        " WHERE d.org_id = ? AND d.status = 'pending' AND d.next_attempt_at <= ?"
        " AND d.id NOT IN (SELECT value FROM json_each(?))"
        " ORDER BY d.next_attempt_at, d.id LIMIT ?",
        (org_id, stamp, dumps(in_flight), limit),
    ).fetchall()


def attempt(client: httpx.Client, job: Job, timeout: float) -> dict[str, typing.Any]:
    """One signed POST of the delivery: the attempt as the delivery log shows it."""
    started = now()
    clock = time.monotonic()
    timestamp = int(time.time())
    headers = {
        **delivery_headers(job.secrets, job.event_id, timestamp, job.body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
    status: int | None = None
    error: str | None = None
    timed_out = f"Timed out after {timeout:g} seconds waiting for a response."
    try:
        with client.stream("POST", job.url, content=job.body, headers=headers) as response:
            received = 0
            for chunk in response.iter_raw():
                received += len(chunk)
                if received > MAX_RESPONSE_BYTES or time.monotonic() - clock > timeout:
                    break
            status = response.status_code
    except UrlNotAllowed as exc:
        error = f"Not sent: {exc}"
    except HostNotResolved as exc:
        error = f"Not sent: {exc}"
    except httpx.TimeoutException:
        error = timed_out
    except httpx.ConnectError as exc:
        error = f"Connection failed: {exc or type(exc).__name__}"
    except httpx.HTTPError as exc:
        error = f"The request failed: {exc or type(exc).__name__}"
    except Exception as exc:  # a delivery must never wedge the worker
        log.exception("webhook delivery %s: unexpected error", job.delivery_id)
        error = f"The request could not be made: {type(exc).__name__}"
    elapsed = time.monotonic() - clock
    if status is not None and elapsed > timeout:
        status, error = None, timed_out
    if status is not None and not 100 <= status <= 599:
        status, error = None, f"The receiver answered with an invalid HTTP status {status}."
    return {
        "number": job.number,
        "attempted_at": iso(started),
        "response_status": status,
        "error": error[:MAX_ERROR_CHARS] if error else None,
        "duration_ms": int(elapsed * 1000),
    }


def record(
    conn: sqlite3.Connection, job: Job, outcome: dict[str, typing.Any], schedule: tuple[float, ...]
) -> None:
    """Append the attempt and settle the delivery: succeeded, retry scheduled, or failed."""
    row = conn.execute(
        "SELECT attempts, status FROM deliveries WHERE id = ?", (job.delivery_id,)
    ).fetchone()
    if row is None or row["status"] != "pending":
        return  # deleted with its subscription meanwhile
    attempts = [*loads(row["attempts"]), outcome]
    status = outcome["response_status"]
    next_attempt_at: str | None = None
    if status is not None and 200 <= status < 300:
        state = "succeeded"
    elif len(attempts) <= len(schedule):
        state = "pending"
        next_attempt_at = iso(now() + timedelta(seconds=schedule[len(attempts) - 1]))
    else:
        state = "failed"
    conn.execute(
        "UPDATE deliveries SET attempts = ?, status = ?, next_attempt_at = ? WHERE id = ?",
        (dumps(attempts), state, next_attempt_at, job.delivery_id),
    )
