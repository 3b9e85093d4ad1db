"""Cursor pagination of every list operation of the spec (conformance class `pagination`).

The list operations are read from the spec: a list without path parameters is
walked as it is; a list under a parent (`/leads/{lead_id}/activities`) is walked
under a real parent: one the kit creates and deletes at the end when it can (a
lead, or any parent whose collection has a create and a delete), else the first
existing one. Lists with a `tag` filter are bounded to the run's tag, so a walk
never crosses data the kit did not create.
"""

from __future__ import annotations

import base64
import binascii
import re
import string
from typing import Any

import pytest

from apollospace_conformance import runtime
from apollospace_conformance.checks import violation
from apollospace_conformance.http import Exchange, KitClient
from apollospace_conformance.resources import create_lead, was_created
from apollospace_conformance.session import KitSession
from apollospace_spec.model import Operation, resolve

from ._requests import (
    documented_body_example,
    error_code,
    has_envelope,
)

_run = runtime.require()
_SPEC = _run.state.spec
LISTS: list[Operation] = [op for op in _SPEC.operations if op.is_list]
LIST_IDS = [op.operation_id for op in LISTS]
END_WALK_PAGES = 25  # pages of the largest limit walked to reach a list's end
CHILDREN = 3  # items created under a parent the kit created, so its list spans pages at limit 2
_DIGITS = re.compile(r"^[0-9]+$")


def _operation(operation_id: str) -> Operation:
    return next(op for op in _SPEC.operations if op.operation_id == operation_id)


def _parameters(op: Operation, where: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in op.parameters(_SPEC.document) if p["in"] == where}


def max_limit(op: Operation) -> int:
    """The documented maximum of the operation's `limit` (the spec says 200)."""
    return int((_parameters(op, "query").get("limit") or {}).get("schema", {}).get("maximum", 200))






def page_of(exchange: Exchange, requirement: str, what: str, *, strict: bool = True) -> dict[str, Any]:
    """The `{items, next_cursor}` body of a 200 page, else a violation.

    `strict` false reads a missing next_cursor as null: walks that judge the items leave the cursor's
    presence to the tests (and the passive check) that own it.
    """
    body = exchange.response_body
    if exchange.status != 200:
        raise violation(requirement, f"200 with a page for {what}", exchange.describe(), exchange)
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise violation("/req/pagination/cursor-based", f"a page {{items: [...], next_cursor}} for {what}", exchange.describe(), exchange)
    if "next_cursor" not in body:
        if strict:
            raise violation("/req/pagination/next-cursor-null-at-end", f"next_cursor present (a string, or null at the end) for {what}",
                            exchange.describe(), exchange)
        body = {**body, "next_cursor": None}
    cursor = body["next_cursor"]
    if cursor is not None and (not isinstance(cursor, str) or not cursor):
        raise violation("/req/pagination/next-cursor-null-at-end", "next_cursor a non-empty string or null", repr(cursor), exchange)
    return body


def _ids(items: list[Any]) -> list[str]:
    return [str(item.get("id")) for item in items if isinstance(item, dict)]


def _duplicates(ids: list[str]) -> list[str]:
    seen: set[str] = set()
    return sorted({i for i in ids if i in seen or seen.add(i)})  # type: ignore[func-returns-value]


class Lists:
    """Concrete paths, bounding filters and sample cursors of the spec's list operations."""

    def __init__(self, kit: KitSession, api: KitClient) -> None:
        self.kit, self.api = kit, api
        self._parents: dict[str, str | None] = {}
        self._why: dict[str, str] = {}
        self._created_parents: set[str] = set()
        self._cursors: dict[str, tuple[str, Exchange, list[dict[str, Any]]] | None] = {}
        self.seed_leads = [create_lead(kit, api) for _ in range(3)]  # listLeads filtered by the tag spans pages

    # --- parents ---------------------------------------------------------------
    def path(self, op: Operation) -> str:
        """The operation's path with real parent ids, or a skip saying why there is none."""
        values = {}
        for name in _parameters(op, "path"):
            if name not in self._parents:
                self._parents[name] = self._resolve_parent(op, name)
            if self._parents[name] is None:
                pytest.skip(f"{op.operation_id}: no {name} to list under ({self._why.get(name, 'none found')})")
            values[name] = self._parents[name]
        path = op.path.format(**values)
        if path in self._created_parents:
            self._populate(op, path)
        return path

    def _resolve_parent(self, op: Operation, name: str) -> str | None:
        collection = op.path.split("{" + name + "}")[0].rstrip("/")
        if name == "lead_id":
            lead = create_lead(self.kit, self.api)
            self._created_parents.add(op.path.format(lead_id=lead["id"]))
            return str(lead["id"])
        created = self._create_parent(op, name, collection)
        if created is not None:
            return created
        parent_list = next((o for o in LISTS if o.path == collection and not _parameters(o, "path")), None)
        if parent_list is None:
            self._why[name] = f"no list operation at {collection}"
            return None
        page = self.api.get(collection, params={"limit": 1})
        items = page.response_body.get("items") if page.status == 200 and isinstance(page.response_body, dict) else None
        if not items:
            self._why[name] = f"GET {collection} lists none: {page.describe()[:160]}"
            return None
        return str(items[0]["id"])

    def _create_parent(self, op: Operation, name: str, collection: str) -> str | None:
        """A harmless parent the kit can delete again: its collection has a create and its item a delete."""
        create = next((o for o in _SPEC.operations if o.path == collection and o.method == "post" and o.is_create), None)
        delete = next((o for o in _SPEC.operations if o.path == f"{collection}/{{{name}}}" and o.method == "delete"), None)
        body = documented_body_example(self.kit, create) if create is not None else None
        if create is None or delete is None or body is None:
            return None
        schema = resolve(_SPEC.document, resolve(_SPEC.document, create.definition["requestBody"])["content"]["application/json"]["schema"])
        properties = schema.get("properties", {})
        if "enabled" in properties:
            body["enabled"] = False  # e.g. a webhook subscription that delivers nothing
        if "description" in properties:
            body["description"] = f"{self.kit.tag}: parent of {op.operation_id}"
        created = self.api.post(collection, body)
        if not was_created(created):
            self._why[name] = f"creating one failed: {created.describe()[:160]}"
            return None
        self.kit.remember_created(self.api, created)
        parent_id = str(created.response_body["id"])
        if len(_parameters(op, "path")) == 1:
            self._created_parents.add(op.path.format(**{name: parent_id}))
        return parent_id

    def _populate(self, op: Operation, path: str) -> None:
        """Under a parent the kit created, create a few children so the list spans pages."""
        self._created_parents.discard(path)
        create = next((o for o in _SPEC.operations if o.path == op.path and o.method == "post" and o.is_create), None)
        body = documented_body_example(self.kit, create) if create is not None else None
        if create is None or body is None:
            return
        for _ in range(CHILDREN):  # deleted with their parent at the end of the run
            if not was_created(self.api.post(path, body)):
                return

    # --- filters and cursors -------------------------------------------------------
    def filters(self, op: Operation) -> dict[str, Any]:
        """Query filters that bound the list to the run's data (the tag), where the list has them."""
        return {"tag": self.kit.tag} if "tag" in _parameters(op, "query") else {}

    def first_page(self, op: Operation, limit: int, *, strict: bool = False) -> tuple[Exchange, dict[str, Any]]:
        path = self.path(op)
        exchange = self.api.get(path, params={**self.filters(op), "limit": limit})
        if exchange.status == 403:
            pytest.skip(f"tenant A's role may not call {op.operation_id}: {exchange.describe()[:160]}")
        return exchange, page_of(exchange, "/req/pagination/cursor-based", f"{op.operation_id} (limit {limit})", strict=strict)

    def cursor(self, op: Operation) -> tuple[str, Exchange, list[dict[str, Any]]] | None:
        """A cursor the server issued for the operation's list (its first page at limit 1), if the list has two items."""
        if op.operation_id not in self._cursors:
            try:
                exchange, page = self.first_page(op, 1)
            except (pytest.skip.Exception, AssertionError):  # the list's own tests report a broken page
                self._cursors[op.operation_id] = None
            else:
                cursor = page["next_cursor"]
                self._cursors[op.operation_id] = (cursor, exchange, page["items"]) if cursor else None
        return self._cursors[op.operation_id]


@pytest.fixture(scope="module")
def lists(kit: KitSession, api: KitClient) -> Lists:
    return Lists(kit, api)


def follow(api: KitClient, path: str, params: dict[str, Any], limit: int, max_pages: int, *,
           strict: bool = False) -> tuple[list[dict[str, Any]], list[Exchange], bool]:
    """Walk a list by its cursors: the items, the pages, and whether the end (next_cursor null) was reached.

    A cursor that comes back, or a page that repeats the previous one, is a list that never ends.
    """
    items: list[dict[str, Any]] = []
    pages: list[Exchange] = []
    cursors: set[str] = set()
    cursor: str | None = None
    previous: list[str] | None = None
    for number in range(max_pages):
        exchange = api.get(path, params={**params, "limit": limit, **({"cursor": cursor} if cursor else {})})
        pages.append(exchange)
        page = page_of(exchange, "/req/pagination/cursor-based", f"GET {path} page {number + 1}", strict=strict)
        ids = _ids(page["items"])
        if ids and ids == previous:
            raise violation("/req/pagination/next-cursor-null-at-end", "a next_cursor that continues the list",
                            f"page {number + 1} repeats page {number}: {ids[:3]}", exchange)
        previous = ids
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages, True
        if cursor in cursors:
            raise violation("/req/pagination/next-cursor-null-at-end", "a next_cursor that continues the list",
                            f"page {number + 1} hands back the cursor of an earlier page: {cursor[:80]!r}", exchange)
        cursors.add(cursor)
    return items, pages, False


def _walk_to_end(lists: Lists, op: Operation, limit: int) -> tuple[list[dict[str, Any]], list[Exchange]]:
    items, pages, ended = follow(lists.api, lists.path(op), lists.filters(op), limit, END_WALK_PAGES, strict=True)
    if not ended:
        pytest.skip(f"{op.operation_id} holds more than {END_WALK_PAGES * limit} items; its end was not reached")
    return items, pages


# --- /req/pagination/cursor-based -------------------------------------------------------


@pytest.mark.requirement("/req/pagination/cursor-based")
@pytest.mark.parametrize("operation_id", LIST_IDS)
def test_cursor_based(lists: Lists, operation_id: str) -> None:
    """Requirement: /req/pagination/cursor-based (every list takes `cursor` and `limit` and returns `{items, next_cursor}`).
    Test purpose: the list operation pages with a cursor, not with offsets or page numbers.
    Test method: 1. GET the list with limit=1 (bounded to the run's tag where it has one) 2. check the page is
    `{items: [...], next_cursor}` 3. when next_cursor is a string, GET ?cursor=<it>&limit=1 and check it is answered
    200 with a page (what the page holds is test_complete_walk's).
    """
    op = _operation(operation_id)
    _, page = lists.first_page(op, 1)
    cursor = page["next_cursor"]
    if cursor is None:
        return
    second = lists.api.get(lists.path(op), params={**lists.filters(op), "limit": 1, "cursor": cursor})
    page_of(second, "/req/pagination/cursor-based", f"{operation_id} ?cursor=<next_cursor of page 1>", strict=False)


# --- /req/pagination/next-cursor-null-at-end ---------------------------------------------


@pytest.mark.requirement("/req/pagination/next-cursor-null-at-end")
@pytest.mark.parametrize("operation_id", LIST_IDS)
def test_next_cursor_null_at_end(lists: Lists, operation_id: str) -> None:
    """Requirement: /req/pagination/next-cursor-null-at-end (the last page has next_cursor null; every other page a string that continues the list).
    Test purpose: a client that follows next_cursor reaches the end of the list and knows it has.
    Test method: 1. walk the list with the maximum limit, following next_cursor 2. check every page has next_cursor,
    a string that leads to a new page (no cursor handed back twice, no page repeated) until the last, where it is
    null 3. walk again with limit 2 and check the same.
    """
    op = _operation(operation_id)
    items, _ = _walk_to_end(lists, op, max_limit(op))
    if len(items) <= 2 * END_WALK_PAGES:
        _walk_to_end(lists, op, 2)  # a premature null shows as a gap: test_complete_walk's


# --- /req/pagination/limit-respected ------------------------------------------------------


@pytest.mark.requirement("/req/pagination/limit-respected")
@pytest.mark.parametrize("operation_id", LIST_IDS)
def test_limit_respected(lists: Lists, operation_id: str) -> None:
    """Requirement: /req/pagination/limit-respected (a page never holds more than `limit` items; default 50, maximum 200).
    Test purpose: limit=1, limit=2 and the documented maximum bound every page, and no limit means at most the default 50.
    Test method: 1. GET the list with limit=1, 2 and the maximum, and without limit 2. check each page holds at most
    that many items 3. on the pages after limit=1's and limit=2's next_cursor, check the same bound.
    """
    op = _operation(operation_id)
    for limit in (1, 2, max_limit(op)):
        exchange, page = lists.first_page(op, limit)
        pages = [(exchange, page)]
        if page["next_cursor"] and limit < max_limit(op):
            following = lists.api.get(lists.path(op), params={**lists.filters(op), "limit": limit, "cursor": page["next_cursor"]})
            pages.append((following, page_of(following, "/req/pagination/cursor-based", f"{operation_id} page 2", strict=False)))
        for seen, body in pages:
            if len(body["items"]) > limit:
                raise violation("/req/pagination/limit-respected", f"at most {limit} items with limit={limit}",
                                f"{len(body['items'])} items", seen)
    default = lists.api.get(lists.path(op), params=lists.filters(op))
    body = page_of(default, "/req/pagination/cursor-based", f"{operation_id} without limit", strict=False)
    if len(body["items"]) > 50:
        raise violation("/req/pagination/limit-respected", "at most 50 items (the default) without limit", f"{len(body['items'])} items", default)


# --- /req/pagination/complete-walk -----------------------------------------------------------


def _tagged_leads(kit: KitSession, api: KitClient, op: Operation) -> list[dict[str, Any]]:
    """The leads carrying the run's tag, read with the largest pages."""
    items, pages, ended = follow(api, op.path, {"tag": kit.tag}, max_limit(op), END_WALK_PAGES)
    if not ended:
        pytest.skip(f"more than {END_WALK_PAGES * max_limit(op)} leads carry the run's tag")
    return items


@pytest.mark.requirement("/req/pagination/complete-walk")
def test_complete_walk(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/pagination/complete-walk (a walk yields every item exactly once, in a stable order, no duplicates, no gaps).
    Test purpose: walking listLeads filtered by the run's tag returns exactly the tagged leads, whatever the page size.
    Test method: 1. read the run's tagged leads in one page of the maximum limit (the baseline) 2. create N tagged leads
    (N from the profile) 3. walk the tag-filtered list with limit 2, then with limit 3 4. check each walk holds every
    created lead and every baseline lead exactly once and nothing else 5. check both walks list the leads in the same order.
    """
    op = _operation("listLeads")
    baseline = _tagged_leads(kit, api, op)
    created = [create_lead(kit, api)["id"] for _ in range(kit.settings.profile_settings.pagination_items)]
    expected = set(_ids(baseline)) | set(created)
    orders = []
    for limit in (2, 3):
        items, pages, ended = follow(api, op.path, {"tag": kit.tag}, limit, len(expected) // limit + 10)
        if not ended:
            raise violation("/req/pagination/next-cursor-null-at-end", f"the end of {len(expected)} leads within {len(pages)} pages of {limit}",
                            "next_cursor never null", pages[-1])
        ids = _ids(items)
        duplicates = _duplicates(ids)
        if duplicates:
            raise violation("/req/pagination/complete-walk", f"every lead once in a walk with limit {limit}",
                            f"{len(duplicates)} lead(s) listed twice: {duplicates[:5]}", pages[-1])
        missing = [i for i in created if i not in ids]
        if missing:
            raise violation("/req/pagination/complete-walk", f"all {len(created)} created leads in a walk with limit {limit}",
                            f"{len(missing)} missing: {missing[:5]} ({len(pages)} pages)", pages[-1])
        gaps = expected - set(ids)
        if gaps:
            raise violation("/req/pagination/complete-walk", f"every lead of the tag in a walk with limit {limit}",
                            f"{len(gaps)} lead(s) of the baseline missing: {sorted(gaps)[:5]}", pages[-1])
        extras = set(ids) - expected
        if extras:
            raise violation("/req/pagination/complete-walk", f"only the tagged leads in a walk with limit {limit}",
                            f"{len(extras)} lead(s) the kit neither created nor saw before: {sorted(extras)[:5]}", pages[-1])
        orders.append((ids, pages[-1]))
    if orders[0][0] != orders[1][0]:
        raise violation("/req/pagination/complete-walk", "the same order whatever the page size",
                        f"limit 2 gave {orders[0][0][:6]}..., limit 3 gave {orders[1][0][:6]}...", orders[1][1])


# --- /req/pagination/stable-under-inserts ------------------------------------------------------


@pytest.mark.requirement("/req/pagination/stable-under-inserts")
def test_stable_under_inserts(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/pagination/stable-under-inserts (items created during a walk cause no duplicate and no gap).
    Test purpose: a cursor marks a position, not an offset: leads created between pages shift nothing.
    Test method: 1. make sure at least 6 leads carry the run's tag and record them in one page of the maximum limit
    (the leads that existed when the walk began) 2. walk the tag-filtered listLeads with limit 2 without inserts: if
    that walk already duplicates or loses leads, skip (test_complete_walk reports it) 3. walk it again with limit 2,
    creating a new tagged lead after every page (at most N, the profile's pagination size) 4. check no lead is listed
    twice and every lead of step 1 is listed.
    """
    op = _operation("listLeads")
    before = _tagged_leads(kit, api, op)
    for _ in range(max(0, 6 - len(before))):
        before.append(create_lead(kit, api))
    existing = set(_ids(before))
    quiet, _, ended = follow(api, op.path, {"tag": kit.tag}, 2, len(existing) // 2 + 10)
    quiet_ids = _ids(quiet)
    if not ended or _duplicates(quiet_ids) or existing - set(quiet_ids):
        pytest.skip("walking listLeads with limit 2 duplicates or loses leads even without inserts (see test_complete_walk)")
    inserts = max(3, kit.settings.profile_settings.pagination_items)
    seen: list[str] = []
    cursor: str | None = None
    last: Exchange | None = None
    for number in range(len(existing) // 2 + inserts + 10):
        last = api.get(op.path, params={"tag": kit.tag, "limit": 2, **({"cursor": cursor} if cursor else {})})
        page = page_of(last, "/req/pagination/cursor-based", f"listLeads page {number + 1} during inserts", strict=False)
        seen.extend(_ids(page["items"]))
        cursor = page["next_cursor"]
        if cursor is None:
            break
        if inserts:
            create_lead(kit, api)
            inserts -= 1
    else:
        raise violation("/req/pagination/stable-under-inserts", "the end of listLeads while leads are created during the walk",
                        f"next_cursor not null after {number + 1} pages of 2", last)
    duplicates = _duplicates(seen)
    if duplicates:
        raise violation("/req/pagination/stable-under-inserts", "no lead listed twice while leads are created during the walk",
                        f"{len(duplicates)} listed twice: {duplicates[:5]}", last)
    gaps = existing - set(seen)
    if gaps:
        raise violation("/req/pagination/stable-under-inserts", "every lead that existed when the walk began",
                        f"{len(gaps)} missing: {sorted(gaps)[:5]}", last)


# --- /req/pagination/invalid-cursor-400 -----------------------------------------------------------


def _tampered(cursor: str, rng: Any) -> str:
    """The cursor with one character (not the first or last, not punctuation) replaced by another of its kind."""
    positions = [i for i, ch in enumerate(cursor) if ch.isascii() and ch.isalnum() and 0 < i < len(cursor) - 1]
    if not positions:
        positions = [i for i, ch in enumerate(cursor) if ch.isascii() and ch.isalnum()] or [0]
    index = rng.choice(positions)
    original = cursor[index]
    pool = string.digits if original.isdigit() else string.ascii_lowercase if original.islower() else string.ascii_uppercase
    return cursor[:index] + rng.choice([ch for ch in pool if ch != original]) + cursor[index + 1:]


def _expect_invalid_cursor(exchange: Exchange, what: str) -> None:
    if exchange.status != 400 or not (has_envelope(exchange) and error_code(exchange) == "invalid_cursor"):
        raise violation("/req/pagination/invalid-cursor-400", f"400 invalid_cursor with the error envelope for {what}",
                        exchange.describe(), exchange)


@pytest.mark.requirement("/req/pagination/invalid-cursor-400")
@pytest.mark.parametrize("operation_id", LIST_IDS)
def test_invalid_cursor_400(kit: KitSession, lists: Lists, operation_id: str) -> None:
    """Requirement: /req/pagination/invalid-cursor-400 (a cursor the server did not issue is 400 `invalid_cursor`, never 5xx).
    Test purpose: garbage, tampered and misplaced cursors are refused with the error envelope, never served or crashed on.
    Test method: 1. send a garbage cursor 2. send a cursor the list issued with one character changed
    3. send a cursor another list issued 4. send a cursor the list issued for other filters (the run's tag dropped,
    or a created_after added) 5. check each is answered 400 with the envelope and code invalid_cursor.
    """
    op = _operation(operation_id)
    path = lists.path(op)
    base = {**lists.filters(op), "limit": 1}
    alphabet = string.ascii_letters + string.digits
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("a garbage cursor", "kit" + "".join(kit.random.choice(alphabet) for _ in range(29)), base),
    ]
    own = lists.cursor(op)
    if own is not None:
        cases.append(("a cursor with one character changed", _tampered(own[0], kit.random), base))
        query = _parameters(op, "query")
        if "tag" in base:
            cases.append(("a cursor issued with tag= used without it", own[0], {k: v for k, v in base.items() if k != "tag"}))
        else:
            moment = next((name for name, p in query.items() if p.get("schema", {}).get("format") == "date-time"), None)
            if moment is not None:
                cases.append((f"a cursor issued without {moment} used with it", own[0], {**base, moment: "2000-01-01T00:00:00Z"}))
    others = [o for o in LISTS if o.operation_id != operation_id]
    kit.random.shuffle(others)
    foreign = next(((o, c) for o in others for c in [lists.cursor(o)] if c is not None), None)
    if foreign is not None:
        cases.append((f"a cursor issued by {foreign[0].operation_id}", foreign[1][0], base))
    for what, cursor, params in cases:
        exchange = lists.api.get(path, params={**params, "cursor": cursor})
        if exchange.status == 403:
            pytest.skip(f"tenant A's role may not call {operation_id}: {exchange.describe()[:160]}")
        _expect_invalid_cursor(exchange, f"{what} on {operation_id}")


# --- /req/pagination/opaque-cursor -------------------------------------------------------------------


def _decoded(cursor: str) -> str | None:
    """The cursor's text when it is merely base64 of printable text."""
    for decode in (base64.urlsafe_b64decode, base64.b64decode):
        try:
            text = decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
        except (binascii.Error, ValueError):
            continue
        if text.isprintable():
            return text
    return None


@pytest.mark.requirement("/req/pagination/opaque-cursor")
def test_opaque_cursor(lists: Lists) -> None:
    """Requirement: /req/pagination/opaque-cursor (SHOULD: cursors are opaque and tamper-proof).
    Test purpose: a cursor is not a readable position a client could forge or compute: not an offset, not an item id.
    Test method: 1. collect the next_cursor of the first page (limit 1) of every list that has two items 2. check no
    cursor is a decimal number, equals or contains an id of its page, or is plain base64 of a number or of such an id
    (that it is tamper-proof is test_invalid_cursor_400's).
    """
    checked = 0
    for op in LISTS:
        found = lists.cursor(op)
        if found is None:
            continue
        cursor, exchange, items = found
        checked += 1
        ids = [i for i in _ids(items) if i and i != "None"]
        decoded = _decoded(cursor)
        if _DIGITS.match(cursor) or (decoded is not None and _DIGITS.match(decoded.strip())):
            raise violation("/req/pagination/opaque-cursor", "an opaque cursor, not an offset",
                            f"{op.operation_id} next_cursor {cursor!r} is a number{f' (base64 of {decoded!r})' if decoded else ''}", exchange)
        for item_id in ids:
            if item_id in cursor or item_id.replace("-", "") in cursor.lower() or (decoded is not None and decoded.strip() == item_id):
                raise violation("/req/pagination/opaque-cursor", "an opaque cursor, not an item id",
                                f"{op.operation_id} next_cursor {cursor!r} is the id {item_id}", exchange)
    if not checked:
        pytest.skip("no list had two items, so no cursor was issued")
