"""The digest of report.json: a SHA-256 over the whole report in canonical JSON.

Canonical JSON here is RFC 8785 (JCS) for the values a report holds: object
keys sorted, no insignificant whitespace, strings as UTF-8 with only the
escapes JSON requires, and numbers that are whole written without a fraction
(15.0 is written 15). The `digest` member itself is left out, then set to
`sha256:<64 hex digits>`. To verify a report: remove `digest`, canonicalize,
hash, compare (`verify_digest`). Any edit of the report, a single status or
a byte of a received body, changes it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

DIGEST_KEY = "digest"
PREFIX = "sha256:"


def canonical_json(value: Any) -> bytes:
    return json.dumps(_whole_numbers(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def _whole_numbers(value: Any) -> Any:
    """Floats that are whole become ints: JCS writes 15.0 as 15, Python's json as 15.0."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _whole_numbers(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_whole_numbers(item) for item in value]
    return value


def digest_of(report: dict[str, Any]) -> str:
    """`sha256:<hex>` of the report without its digest member."""
    body = {key: value for key, value in report.items() if key != DIGEST_KEY}
    return PREFIX + hashlib.sha256(canonical_json(body)).hexdigest()


def verify_digest(report: dict[str, Any]) -> bool:
    return report.get(DIGEST_KEY) == digest_of(report)
