"""Deprecation on the wire: the headers of a response to a deprecated operation.

`Deprecation: @<unix seconds>` (RFC 9745, a structured-field date: when the
deprecation was announced), `Sunset: <HTTP-date>` (RFC 8594: when it may go)
and `Link: <...>; rel="deprecation"` (where to read about it), all from the
operation's `x-apollospace-deprecation` in the spec.
"""

from __future__ import annotations

import calendar
import datetime as dt
from email.utils import format_datetime
from typing import Any

from apollospace_spec.compat.deprecation import deprecation_of

PREFIX = "/v1"
_BY_CONTRACT: dict[int, dict[str, dict[str, str]]] = {}


def deprecation_headers(contract: Any, method: str, path: str) -> dict[str, str]:
    """The headers for a request to `method path`, or {} when its operation is not deprecated (or not routed)."""
    deprecated = _BY_CONTRACT.get(id(contract))
    if deprecated is None:
        deprecated = _BY_CONTRACT[id(contract)] = {
            op_id: headers for op_id, op in contract.by_id.items() if (headers := headers_for(op.definition, contract.document))
        }
    if not deprecated or not path.startswith(PREFIX + "/"):
        return {}  # the common case: nothing deprecated, no routing
    routed = contract.route(method, path[len(PREFIX):])
    return {} if isinstance(routed, list) else dict(deprecated.get(routed[0].operation_id, {}))


def headers_for(definition: dict[str, Any], document: dict[str, Any]) -> dict[str, str]:
    """The three headers of an operation marked `deprecated: true` with its dates; {} otherwise."""
    found = deprecation_of(definition)
    if definition.get("deprecated") is not True or found is None:
        return {}
    announced = calendar.timegm(found.announced.timetuple())
    sunset = dt.datetime.combine(found.sunset, dt.time(), tzinfo=dt.UTC)
    link = found.link or (document.get("info", {}).get("contact") or {}).get("url") or "https://docs.apollospace.ai"
    return {"Deprecation": f"@{announced}", "Sunset": format_datetime(sunset, usegmt=True), "Link": f'<{link}>; rel="deprecation"'}
