"""Breaks /req/dates/query-offset-accepted: a gateway decodes the query and re-encodes it badly, so `%2B` reaches the server as `+` (a space).

The classic form-encoding slip: the gateway unquotes the query string and
rebuilds it without quoting `+` again. `created_after=2025-03-01T09:00:00%2B02:00`
arrives as `...T09:00:00 02:00`, which is no timestamp at all.
"""

from __future__ import annotations

from tests.mutants.wire.exchange import Exchange


def request(exchange: Exchange) -> None:
    exchange.query = exchange.query.replace("%2B", "+").replace("%2b", "+")
