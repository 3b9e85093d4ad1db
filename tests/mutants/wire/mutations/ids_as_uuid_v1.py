"""Breaks /req/identifiers/uuid-v4: a gateway shows every resource id as a version 1 (time-based) UUID, and maps it back on requests.

An id-obfuscation layer that re-keys the server's ids with `uuid1()`-style
values of its own: still UUIDs, but not version 4.
"""

from __future__ import annotations

from tests.mutants.wire.rekey import Rekeying


def _version_1(server_id: str, handed_out: int) -> str:
    return server_id[:14] + "1" + server_id[15:]  # the version digit; the variant bits stay RFC 4122


_rekeying = Rekeying("uuid-v1-ids", _version_1)
request = _rekeying.request
response = _rekeying.response
