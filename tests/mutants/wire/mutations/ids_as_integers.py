"""Breaks /req/identifiers/no-integer-ids: a gateway shows every resource id as a small integer (1, 2, 3...), and maps it back on requests.

A façade over a legacy client contract that numbers resources in the order
it first sees them, keeping the UUIDs for itself.
"""

from __future__ import annotations

from tests.mutants.wire.rekey import Rekeying


def _number(server_id: str, handed_out: int) -> int:
    return handed_out + 1


_rekeying = Rekeying("integer-ids", _number)
request = _rekeying.request
response = _rekeying.response
