"""JSON out, fast: orjson where it writes what the standard library would, else the standard library.

orjson serializes a response about ten times faster than `json.dumps`. It
refuses integers beyond 64 bits and lone surrogates (TypeError); those fall
back to the standard library, so nothing it cannot write changes behaviour.
Parsing stays with `json.loads`: orjson would read a 30-digit integer as a
float, silently changing a stored value.
"""

from __future__ import annotations

import functools
import json
from typing import Any

try:
    import orjson
except ImportError:  # optional at run time: same output, slower
    orjson = None  # type: ignore[assignment]


def dumps_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON, as Starlette's JSONResponse renders it."""
    if orjson is not None:
        try:
            return orjson.dumps(value)
        except TypeError:
            pass
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate cannot be UTF-8: written as its \u escape, the answer stays valid JSON, never a 500.
        return json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


def dumps_text(value: Any) -> str:
    """Compact JSON text for a database column (what `db.dumps` writes)."""
    if orjson is not None:
        try:
            return orjson.dumps(value).decode("utf-8")
        except TypeError:
            pass
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def with_member(object_text: str, name: str, value: Any) -> Any:
    """The JSON object text `object_text` with one more member, for inclusion as is in a response.

    An orjson Fragment: the stored text goes out without being parsed and
    re-serialized (listLeads spent a third of its time doing that). None when that
    cannot be done safely (no orjson, not a plain object, or `name` already there):
    the caller then parses as before.
    """
    if orjson is None or len(object_text) < 3 or object_text[-1] != "}" or f'"{name}":' in object_text:
        return None
    try:
        tail = _cached_member_tail(name, value)
    except TypeError:  # an unhashable value
        tail = _member_tail(name, value)
    return orjson.Fragment((object_text[:-1] + tail).encode("utf-8"))


def _member_tail(name: str, value: Any) -> str:
    """`,"name":value}`, to replace an object's closing brace."""
    return "," + json.dumps(name) + ":" + json.dumps(value, ensure_ascii=False) + "}"


# A page's rows share a few stage names: each is encoded once (typed: 1, 1.0 and True differ).
_cached_member_tail = functools.lru_cache(maxsize=1024, typed=True)(_member_tail)
