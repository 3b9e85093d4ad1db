"""Breaks /req/pagination/next-cursor-null-at-end: a gateway removes `next_cursor` from the last page instead of sending it as null.

A JSON serializer configured to leave out null fields (`exclude_none`,
`omitempty`), applied by the gateway to every answer.
"""

from __future__ import annotations

from tests.mutants.wire.edits import is_page
from tests.mutants.wire.exchange import Exchange


def response(exchange: Exchange) -> None:
    body = exchange.response_json
    if is_page(body) and body["next_cursor"] is None:
        exchange.response_json = {key: value for key, value in body.items() if key != "next_cursor"}
