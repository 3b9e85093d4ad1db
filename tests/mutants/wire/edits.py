"""Small edits the mutations share: walking JSON, telling pages and ids apart, tokens to people.

The proxy knows only HTTP, as a gateway would: a list page is a JSON object
with `items` and `next_cursor`, an id is a value under a key named `id` or
`*_id`. Nothing here reads the spec or the server's code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ID_KEY = re.compile(r"^(id|.+_id)$")
NOT_RESOURCE_IDS = {"request_id"}


def walk_values(value: Any, visit: Callable[[str, Any], Any], key: str = "") -> Any:
    """A copy of `value` where every scalar went through `visit(key, scalar)`; list items keep their list's key."""
    if isinstance(value, dict):
        return {k: walk_values(item, visit, k) for k, item in value.items()}
    if isinstance(value, list):
        return [walk_values(item, visit, key) for item in value]
    return visit(key, value)


def is_resource_id(key: str) -> bool:
    """A key that names a resource id (`id`, `lead_id`), or a list of them (`stage_ids`)."""
    name = key[:-1] if key.endswith("_ids") else key
    return bool(ID_KEY.match(name)) and name not in NOT_RESOURCE_IDS


def is_page(body: Any) -> bool:
    """A list page: an object with an `items` list and a `next_cursor` key."""
    return isinstance(body, dict) and isinstance(body.get("items"), list) and "next_cursor" in body


def query_value(pairs: list[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in pairs if key == name), None)


def without(pairs: list[tuple[str, str]], name: str) -> list[tuple[str, str]]:
    return [(key, value) for key, value in pairs if key != name]


def bearer(headers: dict[str, str]) -> str | None:
    """The token of an `Authorization: Bearer` header, or None."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def home_organization(credentials: dict[str, Any], token: str | None) -> str | None:
    """The organization of the seed user a token belongs to (from the server's credentials file), or None."""
    for person in credentials.get("users", []):
        if token is not None and person.get("token") == token:
            return str(person["organization_id"])
    for tenant in ("tenant_a", "tenant_b"):
        if token is not None and credentials.get(tenant, {}).get("token") == token:
            return str(credentials[tenant]["organization_id"])
    return None
