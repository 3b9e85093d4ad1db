"""The delivery worker: POSTs due deliveries, signed per Standard Webhooks, and logs every attempt.

A tick picks the pending deliveries whose `next_attempt_at` has come, sends
them in parallel (outside any database transaction), then records each
attempt. Any 2xx acknowledges a delivery; anything else schedules the next
attempt `webhook_retry_schedule[n - 1]` seconds after attempt `n` ended, and
a failure after the last scheduled retry fails the delivery.

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
import time
import typing
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import httpcore
import httpx

from apollospace_refserver.db import dumps, loads
from apollospace_refserver.services import Services
from apollospace_refserver.timeutil import iso, now, now_iso, parse_instant
from apollospace_refserver.url_policy import HostNotResolved, UrlNotAllowed, UrlPolicy
from apollospace_refserver.webhook_signing import delivery_headers
from apollospace_refserver.workers import worker

log = logging.getLogger("apollospace_refserver.webhooks")
BATCH_SIZE = 16
RETENTION = timedelta(days=30)
MAX_RESPONSE_BYTES = 64 * 1024
MAX_ERROR_CHARS = 500
USER_AGENT = "ApolloSpace-Webhooks/1 (reference server)"


def delivery_policy(services: Services) -> UrlPolicy:
    """The reference server accepts loopback receivers; private ranges only when configured."""
    return UrlPolicy(allow_loopback=True, allow_private=services.settings.allow_private_webhooks)


class VettedBackend(httpcore.SyncBackend):
    """Connects only to addresses the URL policy allows, checked at connection time."""

    def __init__(self, policy: UrlPolicy) -> None:
        self.policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self.policy.vet_host(host, port)  # raises before any connection is opened
        failure: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure


class VettedTransport(httpx.HTTPTransport):
    """httpx's transport, its pool on a `VettedBackend` (TLS still verifies the host name)."""

    def __init__(self, policy: UrlPolicy) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=BATCH_SIZE,
            network_backend=VettedBackend(policy),
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
def deliver_due(services: Services) -> bool:
    """Attempt every due delivery once; true when there was any."""
    stamp = now_iso()
    with services.db.transaction() as conn:
        conn.execute("DELETE FROM deliveries WHERE created_at < ?", (iso(now() - RETENTION),))
        rows = conn.execute(
            "SELECT d.id, d.event_id, d.payload, d.attempts, w.doc, w.secret, w.previous_secret,"
            " w.previous_secret_expires_at"
            " FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id"
            " WHERE d.status = 'pending' AND d.next_attempt_at <= ?"
            " ORDER BY d.next_attempt_at, d.id LIMIT ?",
            (stamp, BATCH_SIZE),
        ).fetchall()
    if not rows:
        return False
    jobs = [
        Job(
            row["id"],
            len(loads(row["attempts"])) + 1,
            loads(row["doc"])["url"],
            row["event_id"],
            row["payload"].encode("utf-8"),
            signing_secrets(row, stamp),
        )
        for row in rows
    ]
    timeout = services.settings.webhook_timeout_seconds
    with httpx.Client(
        transport=VettedTransport(delivery_policy(services)),
        timeout=timeout,
        trust_env=False,
        follow_redirects=False,
    ) as client:
        with ThreadPoolExecutor(
            max_workers=len(jobs), thread_name_prefix="apollospace-delivery"
        ) as pool:
            attempts = list(pool.map(lambda job: attempt(client, job, timeout), jobs))
    with services.db.transaction() as conn:
        for job, outcome in zip(jobs, attempts, strict=True):
            record(conn, job, outcome, services.settings.webhook_retry_schedule)
    return True


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
