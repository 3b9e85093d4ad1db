"""Tenant isolation, read from the spec: which operations address a resource by id, and where a tenant's ids come from.

Every operation with a path parameter reaches resources by id, and every list
operation shows an organization's resources; both sets come from
`kit.spec.operations`. The probes need real ids of each tenant. A tenant finds
or makes each kind once (a kind is a path parameter, `stage_id`), preferring:

1. the run's own resources, which other tests share and already pay for
   (tenant A's `run_pipeline` and `agent_run` session fixtures);
2. one it creates when that is harmless: a lead (`resources.create_lead`), or
   any resource whose collection has a create and whose item a delete (deleted
   at the end of the run), or whose create offers a dry run; a URL field points
   at the kit's webhook receiver, never at a real host;
3. one embedded in its parent's representation (`/pipelines/{pipeline_id}`
   shows its `stages`);
4. the first item of the tenant's own list of the collection.

Kinds 1 and 2 are "disposable": only they are probed with a delete or an
action, so a broken server can only harm what the kit made. Updates are sent
with the resource's current values, so even a leaked write changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from apollospace_conformance.http import Exchange, KitClient
from apollospace_conformance.resources import first_pipeline_id, lead_body
from apollospace_conformance.session import KitSession
from apollospace_spec.model import Operation, resolve

from ._requests import (
    LEAD_COLLECTION,
    METHOD_ORDER,
    documented_body_example,
    error_of,
    example_body,
    path_parameters,
    relative_path,
    request_schema,
    requires_organization,
)

FOREIGN = "/req/organization/foreign-resource-404"
LISTS = "/req/organization/list-isolation"
OWN_WALK_PAGES = 3  # pages of a tenant's own list read to learn its ids
SETTLE_SECONDS = 15.0  # how long a resource may keep changing (an import being processed) before it is read as it is


# --- the spec's surfaces --------------------------------------------------------------


def surface_of(path: str) -> str:
    """The first segment of a path: `/pipelines/{pipeline_id}/stages` is on the `pipelines` surface."""
    return path.strip("/").split("/", 1)[0]


def addressed_by_id(kit: KitSession, operation: Operation) -> bool:
    """An operation of an organization that names at least one resource by id in its path."""
    return not operation.is_event and "{" in operation.path and requires_organization(kit, operation)


def list_operations(kit: KitSession) -> list[Operation]:
    """Every list of an organization's resources, by path."""
    return sorted((op for op in kit.spec.operations if op.is_list and not op.is_event and requires_organization(kit, op)),
                  key=lambda op: op.path)


def id_surfaces(kit: KitSession) -> dict[str, list[Operation]]:
    """The operations addressed by id, by surface, each in probing order: reads, then writes, the delete of an item last."""
    found: dict[str, list[Operation]] = {}
    for operation in kit.spec.operations:
        if addressed_by_id(kit, operation):
            found.setdefault(surface_of(operation.path), []).append(operation)
    return {name: sorted(ops, key=probing_order) for name, ops in sorted(found.items())}


def probing_order(operation: Operation) -> tuple[int, int, str]:
    """Deletes go last and the shallowest delete (the item itself) after those below it."""
    return METHOD_ORDER.get(operation.method, 9), -operation.path.count("/") if operation.method == "delete" else 0, operation.path


def operation_at(kit: KitSession, method: str, template: str) -> Operation | None:
    return next((op for op in kit.spec.operations if op.path == template and op.method == method and not op.is_event), None)


def collection_of(template: str, name: str) -> str:
    """The collection a path parameter's resources live in: `/pipelines/{pipeline_id}/stages` for `stage_id`."""
    return template.split("{" + name + "}", 1)[0].rstrip("/")


def template_for(kit: KitSession, name: str) -> str | None:
    """The shortest path of the spec that names `name`, ending with it (the item path of its resources)."""
    paths = sorted({op.path for op in kit.spec.operations if op.path.endswith("{" + name + "}")}, key=len)
    return paths[0] if paths else None


def fill(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def schema_ref(kit: KitSession, operation: Operation, statuses: tuple[str, ...] = ("200", "201")) -> str | None:
    """The `$ref` of the operation's success body, e.g. `#/components/schemas/Activity`."""
    for status in statuses:
        response = operation.responses.get(status)
        if response is None:
            continue
        schema = ((resolve(kit.spec.document, response).get("content") or {}).get("application/json") or {}).get("schema") or {}
        if isinstance(schema.get("$ref"), str):
            return str(schema["$ref"])
    return None


def item_ref(kit: KitSession, list_op: Operation) -> str | None:
    """The `$ref` of the items of a list's page."""
    page_ref = schema_ref(kit, list_op, ("200",))
    if page_ref is None:
        return None
    items = (resolve(kit.spec.document, {"$ref": page_ref}).get("properties") or {}).get("items") or {}
    ref = (items.get("items") or {}).get("$ref")
    return str(ref) if isinstance(ref, str) else None


# --- reading a tenant's resources -------------------------------------------------------


def body_of(exchange: Exchange | None) -> dict[str, Any]:
    return exchange.response_body if exchange is not None and isinstance(exchange.response_body, dict) else {}


def readable_prefix(kit: KitSession, template: str) -> str | None:
    """The longest prefix of `template` ending in a path parameter that has a read (a GET that is not a list)."""
    parts = template.split("/")
    for end in range(len(parts), 1, -1):
        prefix = "/".join(parts[:end])
        if prefix.endswith("}"):
            read = operation_at(kit, "get", prefix)
            if read is not None and not read.is_list:
                return prefix
    return None


def representation(kit: KitSession, client: KitClient, template: str, values: dict[str, str]) -> tuple[Any, Exchange] | None:
    """The resource `template` addresses as its nearest readable ancestor shows it (a stage inside its pipeline's `stages`)."""
    prefix = readable_prefix(kit, template)
    if prefix is None:
        return None
    read = client.get(fill(prefix, values))
    if read.status != 200:
        return None
    node: Any = read.response_body
    rest = template[len(prefix):].strip("/").split("/") if template != prefix else []
    for segment, name in zip(rest[0::2], rest[1::2], strict=False):
        if not name.startswith("{"):
            break
        items = node.get(segment) if isinstance(node, dict) else None
        node = next((item for item in items or [] if isinstance(item, dict) and item.get("id") == values.get(name[1:-1])), None)
        if node is None:
            return None
    return node, read


def settled_read(client: KitClient, path: str) -> tuple[Exchange, bool]:
    """A read of `path` once it no longer changes (two equal answers in a row), and whether it did within SETTLE_SECONDS
    (an import being processed changes on its own)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    previous = client.get(path)
    pause = 0.1
    while time.monotonic() < deadline:
        time.sleep(pause)
        current = client.get(path)
        if (current.status, current.response_body) == (previous.status, previous.response_body):
            return current, True
        previous, pause = current, min(pause * 2, 2.0)
    return previous, False


def first_difference(before: Any, after: Any, where: str = "") -> str | None:
    """Where two JSON bodies first differ, e.g. `stages[6].archived: False -> True` (None when equal)."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            found = first_difference(before.get(key), after.get(key), f"{where}.{key}" if where else key)
            if found:
                return found
        return None
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return next((found for index, (old, new) in enumerate(zip(before, after, strict=True))
                     if (found := first_difference(old, new, f"{where}[{index}]"))), None)
    return None if before == after else f"{where or 'the body'}: {str(before)[:80]} -> {str(after)[:80]}"


def normalized(exchange: Exchange, ids: list[str]) -> tuple[int, str | None, str | None]:
    """Status, error code and message, with the ids of the request replaced, so two 404s can be compared."""
    error = error_of(exchange) or {}
    message = error.get("message")
    if isinstance(message, str):
        for value in ids:
            message = message.replace(value, "<id>")
    code = error.get("code")
    return exchange.status, code if isinstance(code, str) else None, message if isinstance(message, str) else None


def unchanged_body(kit: KitSession, operation: Operation, current: Any) -> Any:
    """A body for an update that sets fields to the values they have (None when none can be made).

    Every required field is taken from the current representation (a `<thing>_ids`
    field from the ids of its `<thing>s`), plus, when nothing is required, the first
    optional field that has a value; the body must validate against the request schema.
    """
    schema = request_schema(kit, operation)
    if not schema or not isinstance(current, dict):
        return None
    properties = schema.get("properties") or {}

    def value_of(name: str) -> Any:
        if name in current:
            return current[name]
        if name.endswith("_ids") and isinstance(current.get(name[:-4] + "s"), list):
            return [item.get("id") for item in current[name[:-4] + "s"] if isinstance(item, dict)]
        return None

    required = list(schema.get("required") or [])
    candidates = [required] if required else [[name] for name in sorted(properties) if value_of(name) is not None]
    validator = kit.spec.validator.for_schema(schema)
    for names in candidates:
        body = {name: value_of(name) for name in names}
        if None not in body.values() and not any(validator.iter_errors(body)):
            return body
    return None


# --- a tenant and its ids ----------------------------------------------------------------


@dataclass(frozen=True)
class Owned:
    """One of a tenant's resources: its id, whether a broken server may harm it, and where it came from."""

    id: str
    disposable: bool
    origin: str


@dataclass
class Tenant:
    """One organization of the run, with the ids of its resources the probes need, found or made once."""

    kit: KitSession
    client: KitClient
    name: str  # "tenant A"
    fixture: Callable[[str], Any]  # the test's request.getfixturevalue
    shared: dict[str, Callable[[], str | None]] = field(default_factory=dict)  # collection -> the run's own resource there
    tag: str = ""
    owned: dict[str, Owned | None] = field(default_factory=dict)
    why: dict[str, str] = field(default_factory=dict)

    # --- every path parameter of a path ----------------------------------------------
    def values(self, template: str, names: list[str]) -> dict[str, Owned] | None:
        """Tenant ids for each of `names` (path parameters of `template`, outermost first), or None (see `why`)."""
        found: dict[str, Owned] = {}
        for name in names:
            owned = self.resource(name, template, {key: value.id for key, value in found.items()})
            if owned is None:
                return None
            found[name] = owned
        return found

    def resource(self, name: str, template: str, parents: dict[str, str]) -> Owned | None:
        if name not in self.owned:
            self.owned[name] = self._find(name, collection_of(template, name), parents)
        return self.owned[name]

    def _find(self, name: str, collection: str, parents: dict[str, str]) -> Owned | None:
        reasons = []
        for source in (self._shared, self._created, self._embedded, self._listed):
            try:
                found = source(name, collection, parents)
            except pytest.skip.Exception as skipped:  # a fixture that could not set up, e.g. the receiver
                reasons.append(str(skipped))
                continue
            if isinstance(found, Owned):
                return found
            if found:
                reasons.append(found)
        self.why[name] = "; ".join(reasons) or f"no way to find one under {collection}"
        return None

    def _shared(self, name: str, collection: str, parents: dict[str, str]) -> Owned | str | None:
        supplier = self.shared.get(collection)
        if supplier is None:
            return None
        found = supplier()
        return Owned(found, True, f"the run's own resource at {collection}") if found else f"the run has no resource of its own at {collection}"

    def _created(self, name: str, collection: str, parents: dict[str, str]) -> Owned | str | None:
        create = operation_at(self.kit, "post", collection)
        if create is None or not create.is_create or "{" in collection:
            return None
        if collection == LEAD_COLLECTION:  # where the suite's leads are made: a realistic body, tagged
            tags = [self.kit.tag, self.tag] if self.tag else [self.kit.tag]
            body: dict[str, Any] | str = lead_body(self.kit, first_pipeline_id(self.client), tags=tags)
        else:
            schema = request_schema(self.kit, create) or {}
            has_delete = operation_at(self.kit, "delete", f"{collection}/{{{name}}}") is not None
            if not has_delete and "dry_run" not in (schema.get("properties") or {}):
                return None  # it would stay on the target for good
            body = self._creation_body(create, schema)
        if not isinstance(body, dict):
            return body
        # Any 2xx with an id counts as created: a wrong status code is the status-code tests' to report, not this one's.
        created = self.client.post(collection, body)
        self.kit.remember_created(self.client, created)
        if not 200 <= created.status < 300 or not body_of(created).get("id"):
            return f"{create.operation_id} as {self.name} did not create one: {created.describe()[:200]}"
        return Owned(str(body_of(created)["id"]), True, f"created by {self.name} with {create.operation_id}")

    def _creation_body(self, create: Operation, schema: dict[str, Any]) -> dict[str, Any] | str:
        """The documented example, made harmless: ids of this tenant, the kit's receiver for URLs, disabled, a dry run."""
        body = documented_body_example(self.kit, create) or example_body(self.kit, create)
        if not isinstance(body, dict):
            return f"{create.operation_id} has no example body to start from"
        for prop, raw in sorted((schema.get("properties") or {}).items()):
            definition = resolve(self.kit.spec.document, raw)
            template = template_for(self.kit, prop) if prop.endswith("_id") else None
            if template is not None:
                owned = self.resource(prop, template, {})
                if owned is None:
                    return f"no {prop} of {self.name} to create one with ({self.why.get(prop)})"
                body[prop] = owned.id
            elif definition.get("format") in ("uri", "uri-reference"):
                receiver = self.fixture("receiver")
                body[prop] = receiver.url_for(receiver.new_path(f"isolation-{self.name.split()[-1].lower()}"))
            elif prop == "enabled":
                body[prop] = False  # delivers nothing but test events
            elif prop == "dry_run":
                body[prop] = True
            elif prop == "description" and "string" in str(definition.get("type")):
                body[prop] = f"{self.kit.tag}: tenant isolation"
        if any(self.kit.spec.validator.for_schema(schema).iter_errors(body)):
            return f"the example body of {create.operation_id} made harmless does not validate"
        return body

    def _embedded(self, name: str, collection: str, parents: dict[str, str]) -> Owned | str | None:
        parent, _, segment = collection.rpartition("/")
        if not parent.endswith("}"):
            return None
        shown = representation(self.kit, self.client, parent, parents)
        items = shown[0].get(segment) if shown is not None and isinstance(shown[0], dict) else None
        ids = [str(item["id"]) for item in items or [] if isinstance(item, dict) and item.get("id")]
        if not ids:
            return f"{fill(parent, parents)} shows no {segment}"
        parent_owned = self.owned.get(parent.rsplit("{", 1)[1].rstrip("}"))
        return Owned(ids[-1], bool(parent_owned and parent_owned.disposable), f"the last of the {segment} of {self.name}'s {fill(parent, parents)}")

    def _listed(self, name: str, collection: str, parents: dict[str, str]) -> Owned | str | None:
        listing = operation_at(self.kit, "get", collection)
        if listing is None or not listing.is_list:
            return None
        page = self.client.get(fill(collection, parents), params={"limit": 1})
        items = body_of(page).get("items")
        if page.status != 200 or not items or not isinstance(items[0], dict) or not items[0].get("id"):
            return f"{self.name}'s {listing.operation_id} shows none: {page.describe()[:160]}"
        return Owned(str(items[0]["id"]), False, f"the first item of {self.name}'s {listing.operation_id}")

    # --- children under a parent, for nested lists ----------------------------------
    def make_child(self, list_op: Operation, values: dict[str, str]) -> str | None:
        """Create one item of a nested list under this tenant's (disposable) parent, with an operation
        under the same parent whose answer is such an item (createLeadActivity, sendWebhookTestEvent)."""
        wanted = item_ref(self.kit, list_op)
        names = path_parameters(self.kit, list_op)
        makers = sorted((op for op in self.kit.spec.operations if op.method == "post" and not op.is_event and not op.is_action
                         and path_parameters(self.kit, op) == names and schema_ref(self.kit, op, ("201", "200")) == wanted), key=lambda op: op.path)
        for maker in makers:
            made = self.client.post(fill(maker.path, values), example_body(self.kit, maker))
            if 200 <= made.status < 300 and body_of(made).get("id"):
                return str(body_of(made)["id"])
        return None


def clean_up_leak(kit: KitSession, clients: list[KitClient], exchange: Exchange) -> None:
    """Undo what a leaked create made, best effort: delete it where the spec can, else end it with the
    actions directly under it (cancel a run, archive a stage)."""
    location = exchange.response_headers.get("location")
    if not location or not 200 <= exchange.status < 300:
        return
    path = relative_path(kit, location)
    deletable = not isinstance(kit.spec.router.find("DELETE", path), list)
    actions = []
    for operation in kit.spec.operations:
        if operation.is_action and operation.method == "post":
            action_path = f"{path}/{operation.path.rsplit('/', 1)[1]}"
            match = kit.spec.router.find("POST", action_path)
            if not isinstance(match, list) and match[0] is operation:
                actions.append(action_path)
    for client in clients:
        if deletable and client.delete(path).status < 300:
            return
        for action_path in actions:
            client.post(action_path)


# --- lists -----------------------------------------------------------------------------------


def max_limit(kit: KitSession, operation: Operation) -> int:
    """The documented maximum of the list's `limit` (50 when it documents none)."""
    for parameter in operation.parameters(kit.spec.document):
        if parameter["in"] == "query" and parameter["name"] == "limit":
            return int(resolve(kit.spec.document, parameter.get("schema") or {}).get("maximum", 50))
    return 50


def item_parameter(kit: KitSession, list_op: Operation) -> str | None:
    """The path parameter of the list's items, when the spec reads them one by one (`run_id` for `/runs`)."""
    prefix = list_op.path + "/{"
    for operation in kit.spec.operations:
        rest = operation.path[len(prefix):] if operation.path.startswith(prefix) else ""
        if rest.endswith("}") and "/" not in rest and operation.method == "get":
            return rest[:-1]
    return None


def query_parameters(kit: KitSession, operation: Operation) -> set[str]:
    return {p["name"] for p in operation.parameters(kit.spec.document) if p["in"] == "query"}


def bounded_walk(client: KitClient, path: str, params: dict[str, Any], limit: int, max_pages: int
                 ) -> tuple[list[dict[str, Any]], list[Exchange], Exchange | None]:
    """The items and pages of a list, up to `max_pages`; an answer that is not a page ends the walk and comes third."""
    items: list[dict[str, Any]] = []
    pages: list[Exchange] = []
    cursor: str | None = None
    for _ in range(max_pages):
        page = client.get(path, params={**params, "limit": limit, **({"cursor": cursor} if cursor else {})})
        found = body_of(page).get("items")
        if page.status != 200 or not isinstance(found, list):
            return items, pages, page
        pages.append(page)
        items.extend(item for item in found if isinstance(item, dict))
        cursor = body_of(page).get("next_cursor")
        if not isinstance(cursor, str) or not cursor:
            break
    return items, pages, None
