"""Re-keying gateways: ids translated one way in responses and back in requests.

A gateway that shows clients ids of its own must translate them back on every
request: in the path, the query and the JSON body. `Rekeying` does both sides
for one function (the server's UUID and how many ids were handed out so far ->
the client's id), remembering every id it handed out: only those are
translated back, so an id the client made up reaches the server as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from tests.mutants.wire.edits import UUID, is_resource_id, walk_values
from tests.mutants.wire.exchange import Exchange


@dataclass
class Rekeying:
    name: str  # memory key of this re-keying's tables
    outward: Callable[[str, int], str | int]  # (the server's UUID, ids handed out so far) -> the client's id

    def _tables(self, exchange: Exchange) -> tuple[dict[str, str | int], dict[str, str]]:
        """server id -> client id, and the client id as text -> server id."""
        tables = exchange.memory.setdefault(self.name, ({}, {}))
        return tables[0], tables[1]

    def _out(self, exchange: Exchange, server_id: str) -> str | int:
        to_client, to_server = self._tables(exchange)
        if server_id not in to_client:
            client_id = self.outward(server_id, len(to_client))
            to_client[server_id], to_server[str(client_id)] = client_id, server_id
        return to_client[server_id]

    def _back(self, exchange: Exchange, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, str | int):
            return value
        return self._tables(exchange)[1].get(str(value), value)

    def response(self, exchange: Exchange) -> None:
        body = exchange.response_json
        if body is not None:
            def visit(key: str, value: Any) -> Any:
                return self._out(exchange, value) if is_resource_id(key) and isinstance(value, str) and UUID.match(value) else value
            exchange.response_json = walk_values(body, visit)
        location = exchange.response_headers.get("location")
        if location:
            parts = [str(self._out(exchange, part)) if UUID.match(part) else part for part in location.split("/")]
            exchange.response_headers["location"] = "/".join(parts)

    def request(self, exchange: Exchange) -> None:
        exchange.path = "/".join(str(self._back(exchange, unquote(part))) for part in exchange.path.split("/"))
        exchange.params = [(key, str(self._back(exchange, value))) for key, value in exchange.params]
        body = exchange.request_json
        if body is not None:
            exchange.request_json = walk_values(body, lambda key, value: self._back(exchange, value) if is_resource_id(key) else value)
