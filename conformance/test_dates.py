"""Time filters in queries (conformance class `dates`).

`/req/dates/utc-timestamps` and `/req/dates/date-format` are response properties,
checked passively on every response of the run (test_observed). This module
checks the query side: every date-time query parameter of every list operation
(read from the spec) means the same instant whatever UTC offset it is written
with, and the `_after` / `_before` bounds fall where that instant says.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from apollospace_conformance import runtime
from apollospace_conformance.checks import RESPONSE_CHECKS, ResponseContext, violation
from apollospace_conformance.http import Exchange, KitClient
from apollospace_conformance.resources import create_lead
from apollospace_conformance.session import KitSession
from apollospace_spec.model import Operation, resolve, walk

_run = runtime.require()
_SPEC = _run.state.spec
REQUIREMENT = "/req/dates/query-offset-accepted"
OFFSETS = (("Z", UTC), ("-03:00", timezone(timedelta(hours=-3))), ("+05:30", timezone(timedelta(hours=5, minutes=30))))
MAX_PAGES = 10


def _parameters(op: Operation, where: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in op.parameters(_SPEC.document) if p["in"] == where}


def time_filters(op: Operation) -> list[str]:
    """The operation's date-time query parameters named `<field>_after` or `<field>_before`."""
    return [name for name, p in _parameters(op, "query").items()
            if p.get("schema", {}).get("format") == "date-time" and name.rsplit("_", 1)[-1] in ("after", "before")]


FILTERED_LISTS = [op for op in _SPEC.operations if op.is_list and time_filters(op)]


def written(moment: datetime, offset: str) -> str:
    """`moment` as RFC 3339 in the given offset ("Z" or "±HH:MM"), keeping its microseconds."""
    zone = dict(OFFSETS)[offset]
    local = moment.astimezone(zone)
    text = local.replace(tzinfo=None).isoformat(timespec="microseconds" if moment.microsecond else "seconds")
    return text + ("Z" if offset == "Z" else local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:])


def instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else None


def matches(parameter: str, moment: datetime, bound: datetime) -> bool:
    """`_after` includes the bound (at or after); `_before` excludes it (strictly before), as the spec documents."""
    return moment >= bound if parameter.endswith("_after") else moment < bound


def collect(api: KitClient, path: str, params: dict[str, Any]) -> tuple[list[dict[str, Any]], Exchange]:
    """Every item of a (small) filtered list, by its cursors; the last page for reports."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(MAX_PAGES):
        exchange = api.get(path, params={**params, "limit": 200, **({"cursor": cursor} if cursor else {})})
        if exchange.status == 403:
            pytest.skip(f"tenant A's role may not call GET {path}: {exchange.describe()[:160]}")
        body = exchange.response_body
        if exchange.status != 200 or not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise violation(REQUIREMENT, f"200 with a page for GET {path} with {params}", exchange.describe(), exchange)
        items.extend(item for item in body["items"] if isinstance(item, dict))
        cursor = body.get("next_cursor")
        if not cursor:
            return items, exchange
    pytest.skip(f"GET {path} holds more than {MAX_PAGES * 200} items; the time filters are checked on smaller lists")


class Parents:
    """Real parents for lists under a path parameter: a lead the kit creates, else the first existing one."""

    def __init__(self, kit: KitSession, api: KitClient) -> None:
        self.kit, self.api = kit, api
        self._ids: dict[str, str | None] = {}

    def path(self, op: Operation) -> str:
        values = {}
        for name in _parameters(op, "path"):
            if name not in self._ids:
                self._ids[name] = self._find(op, name)
            if self._ids[name] is None:
                pytest.skip(f"{op.operation_id}: the organization has no {name} to list under")
            values[name] = self._ids[name]
        return op.path.format(**values)

    def _find(self, op: Operation, name: str) -> str | None:
        if name == "lead_id":
            return str(create_lead(self.kit, self.api)["id"])
        collection = op.path.split("{" + name + "}")[0].rstrip("/")
        page = self.api.get(collection, params={"limit": 1})
        items = page.response_body.get("items") if page.status == 200 and isinstance(page.response_body, dict) else None
        return str(items[0]["id"]) if items else None


@pytest.fixture(scope="module")
def parents(kit: KitSession, api: KitClient) -> Parents:
    return Parents(kit, api)


@pytest.mark.requirement(REQUIREMENT)
@pytest.mark.parametrize("operation_id", [op.operation_id for op in FILTERED_LISTS])
def test_query_offset_accepted(kit: KitSession, api: KitClient, parents: Parents, operation_id: str) -> None:
    """Requirement: /req/dates/query-offset-accepted (a time filter accepts any UTC offset and means the same instant as its UTC equivalent).
    Test purpose: each date-time filter of the list gives the same items for one instant written as Z, -03:00 and +05:30,
    and those are the items the instant selects.
    Test method: 1. list the items (bounded to the run's tag where the list has one; for listLeads, create 3 tagged leads
    first) 2. for each `<field>_after` / `<field>_before` filter of the spec, take the middle one of the items' `<field>_at`
    instants as the bound 3. list with the bound written in UTC (Z), in -03:00 and in +05:30 4. check each answer holds
    exactly the items at or after the bound (`_after`) or strictly before it (`_before`), the same for every offset.
    """
    op = next(o for o in FILTERED_LISTS if o.operation_id == operation_id)
    path = parents.path(op)
    base = {"tag": kit.tag} if "tag" in _parameters(op, "query") else {}
    if base:
        for _ in range(3):
            create_lead(kit, api)
    items, _ = collect(api, path, base)
    checked = 0
    for parameter in time_filters(op):
        field = parameter.rsplit("_", 1)[0] + "_at"
        moments = sorted({m for m in (instant(item.get(field)) for item in items) if m is not None})
        if len(moments) < 2:
            continue
        bound = moments[len(moments) // 2]
        known = {str(item["id"]): instant(item.get(field)) for item in items}
        answers: dict[str, list[str]] = {}
        for offset, _zone in OFFSETS:
            value = written(bound, offset)
            found, exchange = collect(api, path, {**base, parameter: value})
            ids = [str(item.get("id")) for item in found]
            wrong = [i for i, item in zip(ids, found, strict=True) if (m := instant(item.get(field))) is not None and not matches(parameter, m, bound)]
            missing = [i for i, moment in known.items() if moment is not None and matches(parameter, moment, bound) and i not in ids]
            if wrong or missing:
                relation = "at or after" if parameter.endswith("_after") else "strictly before"
                raise violation(REQUIREMENT, f"{parameter}={value} ({written(bound, 'Z')} in UTC) to select the items {relation} that instant",
                                f"{len(wrong)} item(s) outside the bound {wrong[:3]}, {len(missing)} missing {missing[:3]}", exchange)
            answers[offset] = sorted(i for i in ids if i in known)  # items created meanwhile were checked above
        if len({tuple(ids) for ids in answers.values()}) != 1:
            raise violation(REQUIREMENT, f"the same items for {parameter} written as Z, -03:00 and +05:30",
                            "; ".join(f"{offset}: {len(ids)} items" for offset, ids in answers.items()), exchange)
        checked += 1
    if not checked:
        pytest.skip(f"{operation_id} has fewer than two items with distinct timestamps to put a bound between")


@pytest.mark.requirement(REQUIREMENT)
def test_query_offset_boundary(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/dates/query-offset-accepted (a time filter accepts any UTC offset and means the same instant as its UTC equivalent).
    Test purpose: a bound written with an offset falls exactly on its instant: one second makes the difference.
    Test method: 1. create a tagged lead and read its created_at 2. list the tag with created_after = that instant
    written in -03:00: the lead is listed 3. with created_after = the instant + 1 s written in +05:30: it is not
    4. with created_before = the instant written in +05:30: it is not 5. with created_before = the instant + 1 s
    written in -03:00: it is.
    """
    op = next((o for o in FILTERED_LISTS if o.operation_id == "listLeads"), None)
    if op is None or not {"created_after", "created_before"} <= set(time_filters(op)):
        pytest.skip("listLeads has no created_after and created_before in the spec")
    lead = create_lead(kit, api)
    created = instant(lead.get("created_at"))
    if created is None:
        raise violation("/req/dates/utc-timestamps", "created_at an RFC 3339 timestamp", repr(lead.get("created_at")))
    later = created + timedelta(seconds=1)
    cases = (
        ("created_after", written(created, "-03:00"), True),
        ("created_after", written(later, "+05:30"), False),
        ("created_before", written(created, "+05:30"), False),
        ("created_before", written(later, "-03:00"), True),
    )
    for parameter, value, listed in cases:
        found, exchange = collect(api, op.path, {"tag": kit.tag, parameter: value})
        if (lead["id"] in [item.get("id") for item in found]) != listed:
            raise violation(REQUIREMENT, f"the lead created at {lead['created_at']} {'listed' if listed else 'not listed'} with {parameter}={value}",
                            f"{'not listed' if listed else 'listed'} ({len(found)} items)", exchange)


def _returns_dates(kit: KitSession, operation: Operation) -> bool:
    """The operation's 200 body reaches the spec's Date schema, following every $ref (read from the spec)."""
    seen: set[str] = set()
    pending: list[Any] = [operation.responses.get("200", {})]
    while pending:
        for _, node in walk(pending.pop()):
            ref = node.get("$ref") if isinstance(node, dict) else None
            if isinstance(ref, str) and ref.startswith("#/") and ref not in seen:
                seen.add(ref)
                pending.append(resolve(kit.spec.document, {"$ref": ref}))
    return "#/components/schemas/Date" in seen


@pytest.mark.requirement("/req/dates/date-format")
def test_calendar_dates_are_yyyy_mm_dd(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/dates/date-format (every date without a time is YYYY-MM-DD).
    Test purpose: the operations whose responses carry calendar dates send them as YYYY-MM-DD.
    Test method: 1. find, in the spec, the GET operations without path ids whose 200 body holds a Date 2. call each
    3. apply the kit's date check to the response.
    """
    candidates = [op for op in kit.spec.operations if op.method == "get" and "{" not in op.path and "200" in op.responses and _returns_dates(kit, op)]
    if not candidates:
        pytest.skip("no operation of the spec returns a calendar date")
    for operation in sorted(candidates, key=lambda op: op.path):
        exchange = api.get(operation.path)
        if exchange.status != 200:
            continue
        RESPONSE_CHECKS["date_format"].function(ResponseContext(
            spec=kit.spec, operation=operation, method="GET", url=exchange.url, status=exchange.status,
            headers=exchange.response_headers, body=exchange.response_body, raw_body=exchange.raw_body, reproduction=exchange,
        ))
