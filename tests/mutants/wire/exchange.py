"""One HTTP exchange through the wire proxy, as a mutation sees and edits it.

The same shape serves both directions: an API call from the kit to the server,
and a webhook delivery from the server to the kit's receiver. Bodies are kept
as bytes and parsed only when a mutation asks, so an exchange no mutation
touches goes through byte for byte.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


@dataclass
class Exchange:
    """A request on its way to the server (or the receiver), then its response on the way back.

    `memory` lives as long as the proxy: what a stateful mutation remembers
    between exchanges (ids it re-keyed, bodies it cached, webhook ids it saw).
    A mutation's `request` hook may answer by itself: it sets `status` (and the
    response fields), and the request is not forwarded.
    """

    method: str
    path: str
    query: str
    request_headers: dict[str, str]  # lower-case names
    request_body: bytes
    memory: dict[str, Any]
    status: int = 0  # 0 until answered
    response_headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    response_body: bytes = b""
    original_request_body: bytes = b""  # the request body as the proxy received it, before any edit
    notes: dict[str, Any] = field(default_factory=dict)  # what a mutation's request hook tells its response hook

    def __post_init__(self) -> None:
        self.original_request_body = self.request_body

    # --- the request -------------------------------------------------------------------
    @property
    def params(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)

    @params.setter
    def params(self, pairs: list[tuple[str, str]]) -> None:
        self.query = urlencode(pairs)

    @property
    def request_json(self) -> Any:
        """The request body as JSON, or None."""
        return _parse(self.request_body)

    @request_json.setter
    def request_json(self, value: Any) -> None:
        self.request_body = json.dumps(value).encode()

    @property
    def organization(self) -> str | None:
        return self.request_headers.get("x-organization-id")

    # --- the response ------------------------------------------------------------------
    @property
    def answered(self) -> bool:
        return self.status != 0

    @property
    def response_json(self) -> Any:
        """The response body as JSON, or None."""
        return _parse(self.response_body)

    @response_json.setter
    def response_json(self, value: Any) -> None:
        self.response_body = json.dumps(value).encode()
        self.response_headers["content-type"] = "application/json"

    @property
    def is_error(self) -> bool:
        return self.status >= 400

    @property
    def error(self) -> dict[str, Any] | None:
        """The `error` object of an error envelope, or None."""
        body = self.response_json if self.is_error else None
        error = body.get("error") if isinstance(body, dict) else None
        return error if isinstance(error, dict) else None

    def answer(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        """Answer without forwarding (or replace the server's answer): `body` as JSON, or bytes as they are."""
        self.status = status
        self.response_headers = dict(headers or {})
        if isinstance(body, bytes):
            self.response_body = body
        elif body is None:
            self.response_body = b""
        else:
            self.response_json = body
