"""Identifiers: version 4 UUIDs as the only identifiers, and path ids that are not refused cleanly.

Every response of the run is also held to /req/identifiers/uuid-v4 and
/req/identifiers/no-integer-ids by the passive checks (see test_observed); the
active test here reads real resources and checks every id they carry.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from apollospace_conformance.checks import violation
from apollospace_conformance.http import Exchange, KitClient
from apollospace_conformance.resources import create_lead
from apollospace_conformance.session import KitSession

from ._requests import (
    LEAD_COLLECTION,
    Violations,
    build,
    expect_error,
    label,
    nested_operations,
    operations,
    path_parameters,
    random_uuid1,
    random_uuid4,
    sample,
)

ID_KEY = re.compile(r"^(id|.+_id)$")
IDS_KEY = re.compile(r"^.+_ids$")
NOT_RESOURCE_IDS = {"request_id"}


def _ids(value: Any, where: str = "") -> Iterator[tuple[str, str, Any]]:
    """(where, key, value) of every identifier in a JSON document: `id`, `*_id` and the items of `*_ids`."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}/{key}"
            if isinstance(key, str) and key not in NOT_RESOURCE_IDS:
                if ID_KEY.match(key) and not isinstance(item, dict | list):
                    yield path, key, item
                elif IDS_KEY.match(key) and isinstance(item, list):
                    for index, element in enumerate(item):
                        if not isinstance(element, dict | list):
                            yield f"{path}/{index}", key, element
            if isinstance(item, dict | list):
                yield from _ids(item, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _ids(item, f"{where}/{index}")


def _check_ids(kit: KitSession, found: Violations, exchange: Exchange, what: str) -> int:
    checked = 0
    for where, _key, value in _ids(exchange.response_body):
        if value is None:
            continue  # an optional reference that is not set
        checked += 1
        with found.collect():
            if isinstance(value, int | float) and not isinstance(value, bool):
                raise violation("/req/identifiers/no-integer-ids", f"UUID identifiers only in {what}", f"{where or '(root)'} = {value!r}", exchange)
            if not isinstance(value, str) or not re.fullmatch(kit.spec.uuid_pattern, value):
                raise violation("/req/identifiers/uuid-v4", f"a version 4 UUID at {where} of {what}", repr(value), exchange)
    return checked


@pytest.mark.requirement("/req/identifiers/uuid-v4", "/req/identifiers/no-integer-ids")
def test_ids_of_a_lead_and_its_pipeline(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/identifiers/uuid-v4 (every resource id is a version 4 UUID), /req/identifiers/no-integer-ids (no integer ids).
    Test purpose: a lead, as created and as read back, and every resource it references that the spec can read by id alone
    (its pipeline, with the pipeline's stages), carry only version 4 UUIDs as ids.
    Test method: 1. create a lead as tenant A 2. read it back with the spec's GET on one lead 3. for every `<name>_id` it holds,
    read the resource with the spec's GET whose only path parameter is `<name>_id` 4. every `id`, `*_id` and `*_ids` value of
    these bodies is null or matches the spec's Uuid pattern (version 4); an integer is a /req/identifiers/no-integer-ids failure.
    """
    name, nested = nested_operations(kit, LEAD_COLLECTION)
    item_get = next((op for op in nested if op.method == "get" and op.path == f"{LEAD_COLLECTION}/{{{name}}}"), None)
    if item_get is None:
        pytest.skip(f"the spec has no GET {LEAD_COLLECTION}/{{{name}}} to read the lead back")
    lead = create_lead(kit, api)
    found = Violations()
    read = build(kit, item_get, {name: str(lead["id"])}).send(api)
    if read.status != 200:
        pytest.skip(f"the new lead cannot be read back, so its ids cannot be checked: {read.describe()[:200]}")
    checked = _check_ids(kit, found, read, label(item_get))
    single_id_reads = operations(kit, lambda op: op.method == "get" and not op.is_list and len(path_parameters(kit, op)) == 1)
    readers = {path_parameters(kit, op)[0]: op for op in reversed(single_id_reads)}  # the first in path order wins
    body = read.response_body if isinstance(read.response_body, dict) else {}
    for key in sorted(body):
        value = body[key]
        reader = readers.get(key)
        if reader is None or reader is item_get or not isinstance(value, str) or not re.fullmatch(kit.spec.uuid_pattern, value):
            continue
        referenced = build(kit, reader, {key: value}).send(api)
        if referenced.status == 200:
            checked += _check_ids(kit, found, referenced, f"{label(reader)} (the lead's {key})")
    found.raise_any()
    if checked == 0:
        pytest.skip("the lead and its references carried no id at all")


@pytest.mark.requirement("/req/identifiers/invalid-path-id")
def test_invalid_path_ids_refused(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/identifiers/invalid-path-id (a path id that is not a version 4 UUID is answered 400 or 404 with the envelope, never 5xx).
    Test purpose: every operation with a path parameter refuses cleanly an id that is not a UUID, and a UUID of another version.
    Test method: 1. for each operation of a deterministic sample of those with path parameters (all of them above the quick profile)
    and each of its path parameters 2. send tenant A's request with that parameter set to "123", "abc" and a version 1 UUID,
    the others random v4 UUIDs, the documented example body 3. expect 400 or 404 with the error envelope.
    """
    found = Violations()
    for operation in sample(kit, operations(kit, lambda op: bool(path_parameters(kit, op))), "invalid-path-id"):
        for name in path_parameters(kit, operation):
            for bad in ("123", "abc", random_uuid1(kit)):
                with found.collect():
                    others = {other: random_uuid4(kit) for other in path_parameters(kit, operation) if other != name}
                    exchange = build(kit, operation, {**others, name: bad}).send(api)
                    expect_error(kit, operation, exchange, "/req/identifiers/invalid-path-id", [400, 404], f"{label(operation)} with {name}={bad}")
    found.raise_any()
