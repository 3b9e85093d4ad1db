"""Breaks /req/pagination/complete-walk: a gateway starts every continuation page with the last item of the page before, so each page boundary lists one item twice.

A page adapter that overlaps pages by one item "so clients can check
continuity": it asks the server for one item fewer and puts the previous
page's last item first. No page grows beyond `limit` and no item is lost.
"""

from __future__ import annotations

from tests.mutants.wire.edits import is_page, query_value, without
from tests.mutants.wire.exchange import Exchange

DEFAULT_LIMIT = 50
LAST_ITEMS = "last-item-before-cursor"  # memory: next_cursor -> the last item of the page that issued it


def request(exchange: Exchange) -> None:
    cursor = query_value(exchange.params, "cursor")
    if exchange.method != "GET" or cursor not in exchange.memory.get(LAST_ITEMS, {}):
        return
    raw = query_value(exchange.params, "limit") or str(DEFAULT_LIMIT)
    if raw.isdigit() and int(raw) > 1:
        exchange.params = [*without(exchange.params, "limit"), ("limit", str(int(raw) - 1))]
        exchange.notes["overlap"] = exchange.memory[LAST_ITEMS][cursor]


def response(exchange: Exchange) -> None:
    body = exchange.response_json
    if not is_page(body):
        return
    items = list(body["items"])
    if "overlap" in exchange.notes:
        items.insert(0, exchange.notes["overlap"])
    if body["next_cursor"] and body["items"]:
        exchange.memory.setdefault(LAST_ITEMS, {})[body["next_cursor"]] = body["items"][-1]
    exchange.response_json = {**body, "items": items}
