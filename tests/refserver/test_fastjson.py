"""fastjson writes what the standard library would, and falls back to it for what orjson refuses."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from apollospace_refserver.fastjson import dumps_bytes, dumps_text, with_member

DOCS: list[dict[str, Any]] = [
    {"id": "x", "contact_name": "Zoë \u0001 \"q\" \\ /", "tags": ["a", "b"], "value_cents": 5, "custom_fields": {"f": 1.5, "n": None}},
    {"emoji": "🚀", "nested": {"list": [1, 2.25, True, False, None]}, "big": 2**63 - 1},
]


def _stdlib(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


@pytest.mark.parametrize("doc", DOCS)
def test_responses_are_what_the_standard_library_writes(doc: dict[str, Any]) -> None:
    assert json.loads(dumps_bytes(doc)) == doc
    assert json.loads(dumps_text(doc)) == doc


def test_what_orjson_refuses_falls_back() -> None:
    """Integers beyond 64 bits: orjson raises TypeError, the standard library writes them."""
    assert dumps_bytes({"n": 10**30}) == _stdlib({"n": 10**30})
    assert dumps_text([10**30]) == "[1000000000000000000000000000000]"


@pytest.mark.parametrize("doc", DOCS)
def test_a_stored_document_with_a_member_appended_is_the_same_json(doc: dict[str, Any]) -> None:
    """listLeads sends the stored text with `stage` appended: the same bytes as parsing and re-serializing."""
    for stored in (dumps_text(doc), json.dumps(doc, ensure_ascii=False, separators=(",", ":"))):
        page = {"items": [with_member(stored, "stage", "Négo \"1\"")], "next_cursor": None}
        assert json.loads(dumps_bytes(page)) == {"items": [{**doc, "stage": "Négo \"1\""}], "next_cursor": None}


def test_no_fragment_when_the_member_is_already_there_or_the_text_is_not_an_object() -> None:
    assert with_member('{"stage":"a"}', "stage", "b") is None
    assert with_member("{}", "stage", "b") is None
    assert with_member("[1]", "stage", "b") is None


def test_member_cache_tells_one_from_true_and_one_point_zero() -> None:
    assert bytes(orjson.dumps(with_member('{"a":0}', "v", 1))) == b'{"a":0,"v":1}'
    assert bytes(orjson.dumps(with_member('{"a":0}', "v", True))) == b'{"a":0,"v":true}'
    assert bytes(orjson.dumps(with_member('{"a":0}', "v", 1.0))) == b'{"a":0,"v":1.0}'
    assert bytes(orjson.dumps(with_member('{"a":0}', "v", ["x"]))) == b'{"a":0,"v":["x"]}'  # unhashable: not cached
