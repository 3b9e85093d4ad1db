"""Breaks /req/pagination/limit-respected: a gateway forwards only the query parameters on its allow-list, and `limit` is not on it.

Every list then comes back in the server's default page size (50), whatever
the client asked for.
"""

from __future__ import annotations

from tests.mutants.wire.edits import without
from tests.mutants.wire.exchange import Exchange


def request(exchange: Exchange) -> None:
    if exchange.method == "GET":
        exchange.params = without(exchange.params, "limit")
