"""Versioning: the public operations live under /v1, and deprecated ones say so on the wire."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlparse

import pytest

from apollospace_conformance.checks import violation
from apollospace_conformance.evidence import not_exercised
from apollospace_conformance.http import KitClient
from apollospace_conformance.session import KitSession
from apollospace_spec.compat.deprecation import deprecation_of


@pytest.mark.requirement("/req/versioning/v1-prefix")
def test_operations_live_under_v1(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/versioning/v1-prefix (every public operation lives under /v1/).
    Test purpose: the base URL under certification is the /v1 prefix, and the list operations answer under it.
    Test method: 1. check the base URL's path ends in /v1 2. call every list operation without path parameters under it 3. expect 200.
    """
    path = urlparse(kit.settings.url).path.rstrip("/")
    if not path.endswith("/v1"):
        pytest.skip(f"the base URL {kit.settings.url} does not end in /v1; the kit cannot tell where the version prefix is")
    for operation in sorted((op for op in kit.spec.operations if op.is_list and "{" not in op.path), key=lambda op: op.path):
        exchange = api.get(operation.path, params={"limit": 1})
        if exchange.status not in (200, 403):  # 403: the role may not read this list; the prefix still routed it
            raise violation("/req/versioning/v1-prefix", f"{operation.operation_id} served under {path}", exchange.describe(), exchange)


def _deprecated_get_operations(kit: KitSession) -> tuple[list[Any], list[Any]]:
    """The operations the spec marks deprecated with dates, and those of them the kit can call as is (GET, no path id)."""
    deprecated = [op for op in kit.spec.operations if op.definition.get("deprecated") is True and deprecation_of(op.definition)]
    return deprecated, [op for op in deprecated if op.method == "get" and "{" not in op.path]


@pytest.mark.requirement("/req/versioning/deprecation-headers")
def test_deprecated_operations_announce_deprecation_and_sunset(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/versioning/deprecation-headers (a deprecated operation's responses carry Deprecation and Sunset with the spec's dates).
    Test purpose: a client calling a deprecated operation learns on the wire since when it is deprecated and when it goes.
    Test method: 1. find the operations the spec marks deprecated 2. call each GET among them without path parameters
    3. expect Deprecation as `@<unix seconds>` of the announcement date (RFC 9745) and Sunset as the HTTP-date of the sunset (RFC 8594).
    """
    deprecated, callable_ = _deprecated_get_operations(kit)
    if not deprecated:
        not_exercised("the spec marks no operation deprecated", "certify against a spec version with a deprecated operation")
    if not callable_:
        not_exercised(f"{len(deprecated)} deprecated operation(s), none a GET without path parameters", "a deprecated GET without path parameters")
    for operation in sorted(callable_, key=lambda op: op.path):
        dates = deprecation_of(operation.definition)
        assert dates is not None
        exchange = api.get(operation.path, params={"limit": 1} if operation.is_list else None)
        announced = calendar.timegm(dates.announced.timetuple())
        deprecation = exchange.response_headers.get("deprecation")
        if deprecation is None or not re.fullmatch(r"@-?\d+", deprecation.strip()) or int(deprecation.strip()[1:]) != announced:
            raise violation("/req/versioning/deprecation-headers", f"{operation.operation_id}: Deprecation: @{announced} (announced {dates.announced})",
                            f"Deprecation: {deprecation!r}", exchange)
        sunset = exchange.response_headers.get("sunset")
        try:
            when = parsedate_to_datetime(sunset) if sunset else None
        except (TypeError, ValueError):
            when = None
        if when is None or when.tzinfo is None or when.astimezone(dt.UTC) != dt.datetime.combine(dates.sunset, dt.time(), tzinfo=dt.UTC):
            raise violation("/req/versioning/deprecation-headers", f"{operation.operation_id}: Sunset: the HTTP-date of {dates.sunset}",
                            f"Sunset: {sunset!r}", exchange)
