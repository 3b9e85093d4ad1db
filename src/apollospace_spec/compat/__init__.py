"""The /v1 promise, checked: classify every difference between two versions of the contract.

`compare(base, head)` walks the operations and webhooks of two bundled
documents and yields typed `Change`s; a change is breaking when a client
written against `base` can stop working against `head`. `$ref`, `allOf` and
file-layout refactors that leave the wire untouched yield nothing.
"""

from __future__ import annotations

from apollospace_spec.compat.changes import Change, Promise
from apollospace_spec.compat.diff import compare
from apollospace_spec.compat.load import CompatInputError, load_document

__all__ = ["Change", "CompatInputError", "Promise", "compare", "load_document"]
