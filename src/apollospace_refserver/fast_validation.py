"""A compiled (Rust) first verdict in front of the python request validators.

Profiling showed python-jsonschema at ~30% of a createLead request's CPU. A
`jsonschema_rs` validator compiled from the same schema answers "valid?" far
faster; only when it says "invalid" does the python validator run, so every
error message, pointer and keyword stays python's. The rust verdict is trusted
only to accept, and only where it cannot accept more than python does:

- `format`: every format the document names is a callable that asks python's
  own FORMAT_CHECKER, so format verdicts are python's;
- `pattern`: jsonschema_rs translates ECMA-262 classes; tests/refserver/
  test_fast_validation.py checks it agrees with `regress` on the spec's patterns;
- numbers: integers past 64 bits are compared inexactly against float bounds
  (2**64 + 1 passes `maximum: 2.0**64`), so values holding one go to python;
- anything jsonschema_rs cannot convert (a lone surrogate, a str subclass)
  raises, and a raise means "ask python";
- a schema jsonschema_rs cannot compile, or one still holding a `$ref` (a
  recursive schema), is validated by python alone.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

_INT_LOW, _INT_HIGH = -(2**63), 2**64  # what jsonschema_rs holds as i64/u64, so compares exactly


def document_formats(document: Any) -> frozenset[str]:
    """Every `format` name the document uses (extra names from examples are harmless: python decides them too)."""
    found: set[str] = set()
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("format"), str):
                found.add(node["format"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return frozenset(found)


def _python_format(name: str, value: Any) -> bool:
    return Draft202012Validator.FORMAT_CHECKER.conforms(value, name)


def _holds_ref(node: Any) -> bool:
    if isinstance(node, dict):
        return "$ref" in node or any(_holds_ref(value) for value in node.values())
    if isinstance(node, list):
        return any(_holds_ref(item) for item in node)
    return False


def compile_rust(schema: dict[str, Any], formats: Iterable[str]) -> Any | None:
    """A jsonschema_rs Draft 2020-12 validator for a ref-free `schema`, or None when it cannot stand in for python."""
    if _holds_ref(schema):
        return None
    try:
        return jsonschema_rs.Draft202012Validator(
            schema,
            formats={name: functools.partial(_python_format, name) for name in formats},
            validate_formats=True,
        )
    except Exception:  # noqa: BLE001  any build failure: python alone judges this schema
        return None


def _wide_int(value: Any) -> bool:
    """Whether `value` is, or holds, an integer outside 64 bits (a loop, not any(): this runs on every request)."""
    if isinstance(value, dict):
        items: Iterable[Any] = value.values()
    elif isinstance(value, list):
        items = value
    else:
        return isinstance(value, int) and not _INT_LOW <= value < _INT_HIGH
    for item in items:
        if type(item) is not str and _wide_int(item):
            return True
    return False


class FastValidator:
    """The rust validator's "valid" is final; anything else is python's to judge."""

    def __init__(self, python: Any, rust: Any | None) -> None:
        self.python = python
        self.rust = rust

    @classmethod
    def build(cls, python: Any, schema: dict[str, Any], formats: Iterable[str]) -> FastValidator:
        """`python` fronted by a rust validator of `schema` (the same schema, its refs inlined)."""
        return cls(python, compile_rust(schema, formats))

    def rust_accepts(self, value: Any) -> bool:
        if self.rust is None or _wide_int(value):
            return False
        try:
            return bool(self.rust.is_valid(value))
        except Exception:  # noqa: BLE001  an instance rust cannot read: ask python
            return False

    def first_error(self, value: Any) -> ValidationError | None:
        """Python's first error for `value`, or None when it is valid."""
        if self.rust_accepts(value):
            return None
        return next(self.python.iter_errors(value), None)
