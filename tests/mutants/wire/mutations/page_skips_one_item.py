"""Breaks /req/pagination/complete-walk: a gateway asks for one item more than the client did, cuts it off, and passes the server's cursor on, so one item per page boundary is never listed.

The gateway fetches `limit + 1` items to learn whether there is a next page,
returns `limit` of them, and forwards the cursor the server issued after the
extra one: the extra item falls between two pages. (It does so when the
client names a `limit`: the kit's walks do.)
"""

from __future__ import annotations

from tests.mutants.wire.edits import is_page, query_value, without
from tests.mutants.wire.exchange import Exchange


def request(exchange: Exchange) -> None:
    raw = query_value(exchange.params, "limit")  # only lists take one
    limit = int(raw) if raw is not None and raw.isdigit() and 0 < int(raw) < 200 else None
    if exchange.method == "GET" and limit is not None:
        exchange.params = [*without(exchange.params, "limit"), ("limit", str(limit + 1))]
        exchange.notes["asked"] = limit


def response(exchange: Exchange) -> None:
    body = exchange.response_json
    asked = exchange.notes.get("asked")
    if is_page(body) and asked is not None and len(body["items"]) > asked:
        exchange.response_json = {**body, "items": body["items"][:asked]}
