"""Breaks /req/organization/foreign-resource-404: a gateway answers every 404 403 `forbidden`, as object stores do for a caller without list rights.

A security policy in the gateway that turns "not found" into "forbidden".
A caller probing another organization's ids still learns nothing, but the
contract says both cases are 404, and clients that treat 403 as "ask for a
role" send their users the wrong way.
"""

from __future__ import annotations

from tests.mutants.wire.exchange import Exchange


def response(exchange: Exchange) -> None:
    error = exchange.error
    if exchange.status == 404 and error is not None:
        exchange.status = 403
        exchange.response_json = {"error": {**error, "code": "forbidden", "message": "You do not have access to this resource."}}
