"""One certification run: settings, clients, observations, created resources."""

from __future__ import annotations

import random
import threading
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlparse

from apollospace_conformance.checks import ContractViolation, ResponseContext, SpecIndex, run_response_checks
from apollospace_conformance.http import Exchange, KitClient, Pacer
from apollospace_conformance.settings import KitSettings

CLEANUP_RESERVE = 500  # requests kept back from the budget so cleanup can always run


@dataclass
class Observations:
    """What the passive response checks saw across the whole run."""

    applied: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    violations: dict[str, list[ContractViolation]] = field(default_factory=lambda: defaultdict(list))
    request_ids: dict[str, str] = field(default_factory=dict)  # request_id -> first request that carried it
    responses: int = 0
    auth_rejections: int = 0  # 401 or 404 to a request with valid tenant credentials


class KitSession:
    """Everything the suite's fixtures share during one run."""

    def __init__(self, settings: KitSettings) -> None:
        self.settings = settings
        self.spec = SpecIndex()
        self.run_id = uuid.UUID(int=random.Random(settings.seed).getrandbits(128), version=4).hex[:12]
        self.tag = f"apollospace-conformance-{self.run_id}"
        self.random = random.Random(settings.seed)
        self.pacer = Pacer(settings.max_requests, settings.max_rate)
        self.observations = Observations()
        self.created: list[tuple[str, str]] = []  # (client label, resource URL path) to delete at the end
        self.started_at = datetime.now(UTC)
        self.dead: str | None = None
        self._lock = threading.Lock()
        self.tenant_a = self.client(settings.token_a, settings.org_a)
        self.tenant_b = self.client(settings.token_b, settings.org_b) if settings.has_tenant_b else None

    def client(self, token: str | None, org_id: str | None) -> KitClient:
        return KitClient(self.settings.url, self.pacer, token=token, org_id=org_id, timeout=self.settings.timeout, observer=self.observe)

    def observe(self, exchange: Exchange) -> None:
        """Run the passive response checks on one exchange of a documented operation."""
        operation = self.spec.find(exchange.method, exchange.url, self.settings.url)
        with self._lock:
            self.observations.responses += 1
            has_credentials = exchange.request_headers.get("Authorization", "") in (f"Bearer {self.settings.token_a}", f"Bearer {self.settings.token_b}")
            if has_credentials and exchange.status == 401:
                self.observations.auth_rejections += 1
        if operation is None:
            return
        ctx = ResponseContext(
            spec=self.spec, operation=operation, method=exchange.method, url=exchange.url, status=exchange.status,
            headers=exchange.response_headers, body=exchange.response_body, raw_body=exchange.raw_body, reproduction=exchange,
        )
        violations, applied = run_response_checks(ctx)
        with self._lock:
            for name in applied:
                self.observations.applied[name] += 1
            for broken in violations:
                if len(self.observations.violations[broken.requirement]) < 5:
                    self.observations.violations[broken.requirement].append(broken)
            self._track_request_id(exchange)

    def _track_request_id(self, exchange: Exchange) -> None:
        error = exchange.response_body.get("error") if isinstance(exchange.response_body, dict) else None
        request_id = error.get("request_id") if isinstance(error, dict) else None
        if not isinstance(request_id, str):
            return
        self.observations.applied["request_id_unique"] += 1
        first = self.observations.request_ids.setdefault(request_id, exchange.describe())
        if first != exchange.describe() and len(self.observations.violations["/req/errors/request-id-unique"]) < 5:
            self.observations.violations["/req/errors/request-id-unique"].append(
                ContractViolation("/req/errors/request-id-unique", "a request_id unique to each request", f"{request_id!r} on two requests: {first[:200]} and {exchange.describe()[:200]}", exchange.curl())
            )

    def remember_created(self, client: KitClient, exchange: Exchange) -> None:
        """Queue a created resource for deletion at the end (from its Location header)."""
        location = exchange.response_headers.get("location")
        if location and 200 <= exchange.status < 300:
            with self._lock:
                self.created.append(("b" if client.org_id == self.settings.org_b and client.org_id != self.settings.org_a else "a", urlparse(location).path))

    def cleanup(self) -> list[str]:
        """Delete what the run created wherever the spec has a DELETE; report what stays."""
        self.pacer.max_requests += CLEANUP_RESERVE
        prefix = urlparse(self.settings.url).path.rstrip("/")
        left: list[str] = []
        for label, path in reversed(self.created):
            relative = path[len(prefix):] if prefix and path.startswith(prefix) else path
            found = self.spec.router.find("DELETE", relative)
            if isinstance(found, list):
                left.append(relative)
                continue
            client = self.tenant_b if label == "b" and self.tenant_b else self.tenant_a
            try:
                client.delete(relative)
            except Exception:  # cleanup is best effort; the report lists what stays
                left.append(relative)
        return left
