"""The docs' view model: small frozen dataclasses built from the bundled spec and the catalog.

Templates see only these objects, never the raw spec dict, so a template cannot
reach into the document and every fact on a page has one builder here.
"""

from __future__ import annotations

import http
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apollospace_docs.curl import STANDARD_VARIABLES, CurlExample, Variable, build_curl
from apollospace_docs.fields import Field, FieldBuilder, assemble_example
from apollospace_docs.text import after_first_sentence, first_sentence, kebab, pretty_json
from apollospace_spec import Operation, RequirementCatalog, iter_operations
from apollospace_spec.model import resolve
from apollospace_spec.webhook_signing import sign

DOCS_URL = "https://docs.apollospace.ai"
SECTION = "en/api-reference"
INDEX_SLUG = f"{SECTION}/introduction"
EVENTS_FOLDER = "webhook-events"
ROLES = ("owner", "admin", "member", "viewer")
# The conventions of the index page, each with the requirement classes it states.
CONVENTION_CLASSES = (
    "auth",
    "organization",
    "versioning",
    "dates",
    "identifiers",
    "pagination",
    "errors",
    "status-codes",
    "rate-limits",
    "idempotency",
)


# --- shared pieces ------------------------------------------------------------------


@dataclass(frozen=True)
class PageRef:
    """A page as other pages link to it: its title and its slug (path without extension)."""

    title: str
    slug: str
    method: str = ""
    path: str = ""

    @property
    def route(self) -> str:
        """The Mintlify route: `/en/api-reference/leads/get-lead`."""
        return "/" + self.slug

    @property
    def markdown_route(self) -> str:
        """The route of the plain Markdown twin: `/en/api-reference/leads/get-lead.md`."""
        return f"/{self.slug}.md"

    @property
    def markdown_url(self) -> str:
        return DOCS_URL + self.markdown_route


@dataclass(frozen=True)
class RequirementView:
    id: str
    level: str
    klass: str
    statement: str


@dataclass(frozen=True)
class ErrorView:
    code: str
    status: int
    description: str = ""


@dataclass(frozen=True)
class ExampleView:
    """One example body: for a response, its status; `title` is what the code block is labelled."""

    status: str
    title: str
    summary: str
    json: str


@dataclass(frozen=True)
class LinkView:
    """An OpenAPI link from a response to the operation that reads what it returned."""

    name: str
    description: str
    target: PageRef


@dataclass(frozen=True)
class ResponseView:
    status: str
    description: str
    headers: tuple[Field, ...]
    fields: tuple[Field, ...]
    schema_name: str
    has_body: bool

    @property
    def phrase(self) -> str:
        return http.HTTPStatus(int(self.status)).phrase


@dataclass(frozen=True)
class EndpointPage:
    ref: PageRef
    operation_id: str
    method: str
    path: str
    server_url: str
    tag: str
    summary: str
    description: str
    header_params: tuple[Field, ...]
    path_params: tuple[Field, ...]
    query_params: tuple[Field, ...]
    body_fields: tuple[Field, ...]
    body_schema_name: str
    body_description: str
    response: ResponseView
    errors: tuple[ErrorView, ...]
    requirements: tuple[RequirementView, ...]
    rate_class: str
    roles: tuple[str, ...]
    billable_retry: str
    idempotent: bool
    paginated: bool
    is_action: bool
    request_example: CurlExample
    response_examples: tuple[ExampleView, ...]
    links: tuple[LinkView, ...]

    kind = "endpoint"

    @property
    def title(self) -> str:
        return self.ref.title

    @property
    def api_line(self) -> str:
        """The Mintlify `api:` frontmatter: method and full URL."""
        return f"{self.method} {self.server_url}{self.path}"

    @property
    def role_flags(self) -> tuple[tuple[str, bool], ...]:
        return tuple((role, role in self.roles) for role in ROLES)


@dataclass(frozen=True)
class EventPage:
    ref: PageRef
    event_type: str
    operation_id: str
    summary: str
    description: str
    headers: tuple[Field, ...]
    payload_fields: tuple[Field, ...]
    payload_schema_name: str
    payload_example: ExampleView
    delivery_example: str
    example_secret: str
    acknowledgement: str
    requirements: tuple[RequirementView, ...]

    kind = "event"

    @property
    def title(self) -> str:
        return self.ref.title


@dataclass(frozen=True)
class StatusRow:
    code: str
    phrase: str
    meaning: str
    operations: int


@dataclass(frozen=True)
class RateClassRow:
    name: str
    operations: tuple[PageRef, ...]


@dataclass(frozen=True)
class BillableRow:
    page: PageRef
    retry: str


@dataclass(frozen=True)
class RoleRow:
    page: PageRef
    allowed: tuple[bool, ...]


@dataclass(frozen=True)
class RequirementGroup:
    klass: str
    description: str
    requirements: tuple[RequirementView, ...]


@dataclass(frozen=True)
class TagGroup:
    name: str
    slug: str
    description: str
    pages: tuple[EndpointPage, ...]


@dataclass(frozen=True)
class Conventions:
    """Every general convention of the API Reference page, read from the spec and the catalog."""

    server_url: str
    auth_description: str
    auth_format: str
    organization_header: Field
    organization_example: str
    versioning_prefix: str
    timestamp_description: str
    timestamp_example: str
    date_description: str
    date_example: str
    query_offset_description: str
    uuid_description: str
    uuid_example: str
    cursor_description: str
    next_cursor_description: str
    limit: Field
    limit_min: str
    limit_max: str
    limit_default: str
    page_example: str
    list_operations: tuple[PageRef, ...]
    error_description: str
    error_fields: tuple[Field, ...]
    error_example: str
    common_errors: tuple[ErrorView, ...]
    statuses: tuple[StatusRow, ...]
    too_many_description: str
    retry_after_description: str
    rate_classes: tuple[RateClassRow, ...]
    idempotency_description: str
    idempotent_operations: tuple[PageRef, ...]
    billable: tuple[BillableRow, ...]
    replayed_description: str
    roles: tuple[str, ...]
    role_rows: tuple[RoleRow, ...]
    requirement_groups: dict[str, RequirementGroup]
    variables: tuple[Variable, ...]


@dataclass(frozen=True)
class IndexPage:
    ref: PageRef
    summary: str
    description: str
    conventions: Conventions
    tags: tuple[TagGroup, ...]
    events: tuple[EventPage, ...]
    contact_email: str
    api_title: str

    kind = "index"

    @property
    def title(self) -> str:
        return self.ref.title


@dataclass(frozen=True)
class NavGroup:
    name: str
    pages: tuple[PageRef, ...]


@dataclass(frozen=True)
class DocsSite:
    """Everything the docs show: the index, one page per operation and per event, the navigation."""

    api_title: str
    api_version: str
    summary: str
    docs_url: str
    index: IndexPage
    endpoints: tuple[EndpointPage, ...]
    events: tuple[EventPage, ...]
    navigation: tuple[NavGroup, ...]

    @property
    def pages(self) -> tuple[IndexPage | EndpointPage | EventPage, ...]:
        return (self.index, *self.endpoints, *self.events)


# --- the builder -----------------------------------------------------------------------


class _Builder:
    def __init__(self, document: dict[str, Any], catalog: RequirementCatalog) -> None:
        self.doc = document
        self.catalog = catalog
        self.fields = FieldBuilder(document)
        self.server_url = str(document["servers"][0]["url"]).rstrip("/")
        self.common_errors = tuple(
            ErrorView(str(e["code"]), int(e["status"]), str(e.get("description", "")))
            for e in document.get("x-apollospace-common-errors", [])
        )
        operations = list(iter_operations(document, events=True))
        self.operations = [op for op in operations if not op.is_event]
        self.event_operations = [op for op in operations if op.is_event]
        self.refs = {op.operation_id: self._ref(op) for op in operations}

    # pages and links

    def _ref(self, op: Operation) -> PageRef:
        title = str(op.definition.get("summary") or op.operation_id)
        if op.is_event:
            return PageRef(title, f"{SECTION}/{EVENTS_FOLDER}/{kebab(op.path)}", "", op.path)
        tag = str((op.definition.get("tags") or ["Other"])[0])
        return PageRef(
            title, f"{SECTION}/{kebab(tag)}/{kebab(op.operation_id)}", op.method.upper(), op.path
        )

    def requirement(self, requirement_id: str) -> RequirementView:
        found = self.catalog[requirement_id]
        return RequirementView(found.id, found.level, found.klass, found.statement)

    def component(self, kind: str, name: str) -> dict[str, Any]:
        return dict(self.doc["components"][kind][name])

    # schemas and examples

    def schema_name(self, schema: dict[str, Any]) -> str:
        ref = schema.get("$ref", "")
        return ref.rsplit("/", 1)[-1] if isinstance(ref, str) and ref else ""

    def examples_of(self, media: dict[str, Any]) -> list[tuple[str, str, Any]]:
        """(name, summary, value) of a media type's examples, else of its schema's `examples`."""
        if media.get("examples"):
            return [
                (
                    name,
                    str(resolve(self.doc, ex).get("summary", "")),
                    resolve(self.doc, ex)["value"],
                )
                for name, ex in media["examples"].items()
            ]
        if "example" in media:
            return [("", "", media["example"])]
        schema = resolve(self.doc, media.get("schema", {}))
        return [("", "", value) for value in schema.get("examples", [])]

    # operations

    def endpoint(self, op: Operation) -> EndpointPage:
        definition = op.definition
        parameters = op.parameters(self.doc)
        security = definition.get("security", self.doc.get("security", []))
        authenticated = bool(security)
        headers: list[Field] = []
        if authenticated:
            scheme_name = next(iter(security[0]))
            scheme = self.doc["components"]["securitySchemes"][scheme_name]
            headers.append(
                Field(
                    "Authorization",
                    "string",
                    True,
                    str(scheme.get("description", "")).strip(),
                    notes=("Format: `Bearer <token>`.",),
                )
            )
        by_location: dict[str, list[Field]] = {"header": headers, "path": [], "query": []}
        for parameter in parameters:
            by_location.setdefault(parameter["in"], []).append(
                self.fields.parameter(parameter["name"], parameter)
            )
        body_fields: tuple[Field, ...] = ()
        body_schema: dict[str, Any] | None = None
        body_example: Any = None
        body_description = ""
        if "requestBody" in definition:
            media = resolve(self.doc, definition["requestBody"])["content"]["application/json"]
            body_schema = media["schema"]
            body_fields = self.fields.object_fields(body_schema)
            body_description = str(resolve(self.doc, body_schema).get("description", "")).strip()
            examples = self.examples_of(media)
            body_example = examples[0][2] if examples else assemble_example(self.doc, body_schema)
        status, raw = self._success(op)
        response = self._response(status, raw)
        own_errors = tuple(ErrorView(str(e["code"]), int(e["status"])) for e in op.error_codes)
        examples = self._response_examples(status, raw, own_errors)
        curl = build_curl(
            self.doc,
            method=op.method,
            path=op.path,
            parameters=parameters,
            authenticated=authenticated,
            body_schema=body_schema,
            body_example=body_example,
        )
        links = tuple(
            LinkView(name, str(link.get("description", "")), self.refs[link["operationId"]])
            for name, link in (raw.get("links") or {}).items()
            if link.get("operationId") in self.refs
        )
        billable = definition.get("x-apollospace-billable") or {}
        return EndpointPage(
            ref=self.refs[op.operation_id],
            operation_id=op.operation_id,
            method=op.method.upper(),
            path=op.path,
            server_url=self.server_url,
            tag=str((definition.get("tags") or ["Other"])[0]),
            summary=first_sentence(str(definition.get("description", ""))),
            description=str(definition.get("description", "")).strip(),
            header_params=tuple(by_location["header"]),
            path_params=tuple(by_location["path"]),
            query_params=tuple(by_location["query"]),
            body_fields=body_fields,
            body_schema_name=self.schema_name(body_schema or {}),
            body_description=body_description,
            response=response,
            errors=own_errors,
            requirements=tuple(self.requirement(r) for r in op.requirement_ids),
            rate_class=str(definition.get("x-apollospace-rate-class", "")),
            roles=tuple(definition.get("x-apollospace-roles", [])),
            billable_retry=" ".join(str(billable.get("retry", "")).split()),
            idempotent=any(p["name"].lower() == "idempotency-key" for p in parameters),
            paginated=op.is_list,
            is_action=op.is_action,
            request_example=curl,
            response_examples=examples,
            links=links,
        )

    def _success(self, op: Operation) -> tuple[str, dict[str, Any]]:
        for status, raw in op.responses.items():
            if str(status).startswith("2"):
                return str(status), resolve(self.doc, raw)
        raise ValueError(f"{op.operation_id} documents no 2xx response")

    def _response(self, status: str, raw: dict[str, Any]) -> ResponseView:
        headers = tuple(
            self.fields.parameter(name, header)
            for name, header in (raw.get("headers") or {}).items()
        )
        media = (raw.get("content") or {}).get("application/json")
        fields = self.fields.object_fields(media["schema"]) if media else ()
        return ResponseView(
            status=status,
            description=str(raw.get("description", "")).strip(),
            headers=headers,
            fields=fields,
            schema_name=self.schema_name(media["schema"]) if media else "",
            has_body=media is not None,
        )

    def _response_examples(
        self, status: str, raw: dict[str, Any], errors: tuple[ErrorView, ...]
    ) -> tuple[ExampleView, ...]:
        examples: list[ExampleView] = []
        media = (raw.get("content") or {}).get("application/json")
        if media:
            found = self.examples_of(media)
            if (
                not found
            ):  # the spec gives none: assemble one from the examples of the schema's parts
                value = assemble_example(self.doc, media["schema"])
                found = [("", "Assembled from the examples of the schema's fields.", value)]
            for name, summary, value in found:
                title = f"{status} {name}" if name else status
                examples.append(ExampleView(status, title, summary, pretty_json(value)))
        error_schema = self.component("schemas", "Error")
        for value in error_schema.get("examples", []):
            code = value["error"]["code"]
            match = next((e for e in errors if e.code == code), None)
            if match:
                examples.append(
                    ExampleView(str(match.status), f"{match.status} {code}", "", pretty_json(value))
                )
        return tuple(examples)

    # events

    def event(self, op: Operation) -> EventPage:
        definition = op.definition
        parameters = op.parameters(self.doc)
        headers = tuple(
            self.fields.parameter(p["name"], p) for p in parameters if p["in"] == "header"
        )
        media = resolve(self.doc, definition["requestBody"])["content"]["application/json"]
        payload = self.examples_of(media)[0][2]
        body = pretty_json(payload)
        secret = str(resolve(self.doc, self.component("schemas", "WebhookSecret"))["examples"][0])
        timestamp = int(
            datetime.fromisoformat(str(payload["timestamp"]).replace("Z", "+00:00")).timestamp()
        )
        signature = sign(secret, str(payload["id"]), timestamp, body.encode("utf-8"))
        delivery = "\n".join(
            [
                "POST /apollo-space HTTP/1.1",
                "Content-Type: application/json",
                f"webhook-id: {payload['id']}",
                f"webhook-timestamp: {timestamp}",
                f"webhook-signature: {signature}",
                "",
                body,
            ]
        )
        ack = resolve(self.doc, next(iter(op.responses.values())))
        return EventPage(
            ref=self.refs[op.operation_id],
            event_type=op.path,
            operation_id=op.operation_id,
            summary=first_sentence(str(definition.get("description", ""))),
            description=str(definition.get("description", "")).strip(),
            headers=headers,
            payload_fields=self.fields.object_fields(media["schema"]),
            payload_schema_name=self.schema_name(media["schema"]),
            payload_example=ExampleView("", op.path, "", body),
            delivery_example=delivery,
            example_secret=secret,
            acknowledgement=str(ack.get("description", "")).strip(),
            requirements=tuple(self.requirement(r) for r in op.requirement_ids),
        )

    # the index

    def conventions(self, endpoints: tuple[EndpointPage, ...]) -> Conventions:
        doc = self.doc
        scheme = doc["components"]["securitySchemes"]["bearerAuth"]
        org = self.component("parameters", "OrganizationId")
        timestamp = self.component("schemas", "Timestamp")
        date = self.component("schemas", "Date")
        uuid = self.component("schemas", "Uuid")
        cursor = self.component("parameters", "Cursor")
        next_cursor = self.component("schemas", "NextCursor")
        limit = self.component("parameters", "Limit")
        error = self.component("schemas", "Error")
        page_example = {"items": ["..."], "next_cursor": next_cursor["examples"][0]}
        statuses: dict[str, list[Any]] = {}
        meanings: dict[str, str] = {}
        for op in self.operations:
            for status, raw in op.responses.items():
                statuses.setdefault(str(status), []).append(raw)
                ref = raw.get("$ref") if isinstance(raw, dict) else None
                if ref and not str(status).startswith("2"):
                    meanings.setdefault(str(status), str(resolve(doc, raw).get("description", "")))
        status_requirements = {
            code: r.statement
            for r in self.catalog.in_class("status-codes")
            for code in statuses
            if f" {code} " in f" {r.statement} " and code.startswith("2")
        }
        rows = []
        for code, uses in sorted(statuses.items()):
            phrase = http.HTTPStatus(int(code)).phrase
            meaning = meanings.get(code) or status_requirements.get(code, "")
            if not meaning.lower().startswith(phrase.lower()):
                meaning = f"{phrase}: {meaning}" if meaning else phrase
            rows.append(StatusRow(code, phrase, meaning, len(uses)))
        rate_classes: dict[str, list[PageRef]] = {}
        for page in endpoints:
            rate_classes.setdefault(page.rate_class, []).append(page.ref)
        groups = {
            klass: RequirementGroup(
                klass,
                self.catalog.classes.get(klass, ""),
                tuple(self.requirement(r.id) for r in self.catalog.in_class(klass)),
            )
            for klass in CONVENTION_CLASSES
        }
        too_many = self.component("responses", "TooManyRequests")
        return Conventions(
            server_url=self.server_url,
            auth_description=str(scheme.get("description", "")).strip(),
            auth_format=str(scheme.get("bearerFormat", "")),
            organization_header=self.fields.field(
                org["name"],
                org["schema"],
                required=True,
                description=str(org.get("description", "")).strip(),
            ),
            organization_example=str(org.get("example", "")),
            versioning_prefix="/" + self.server_url.rsplit("/", 1)[-1] + "/",
            timestamp_description=str(timestamp.get("description", "")).strip(),
            timestamp_example=str(timestamp["examples"][0]),
            date_description=str(date.get("description", "")).strip(),
            date_example=str(date["examples"][0]),
            query_offset_description=after_first_sentence(
                str(self.component("parameters", "CreatedAfter").get("description", ""))
            ),
            uuid_description=str(uuid.get("description", "")).strip(),
            uuid_example=str(uuid["examples"][0]),
            cursor_description=str(cursor.get("description", "")).strip(),
            next_cursor_description=str(next_cursor.get("description", "")).strip(),
            limit=self.fields.field(
                "limit",
                limit["schema"],
                required=False,
                description=str(limit.get("description", "")).strip(),
            ),
            limit_min=str(limit["schema"].get("minimum", 1)),
            limit_max=str(limit["schema"].get("maximum", "")),
            limit_default=str(limit["schema"].get("default", "")),
            page_example=pretty_json(page_example).replace('"..."', "..."),
            list_operations=tuple(p.ref for p in endpoints if p.paginated),
            error_description=str(error.get("description", "")).strip(),
            error_fields=self.fields.object_fields(error),
            error_example=pretty_json(error["examples"][0]),
            common_errors=self.common_errors,
            statuses=tuple(rows),
            too_many_description=str(too_many.get("description", "")).strip(),
            retry_after_description=str(
                self.component("headers", "RetryAfter").get("description", "")
            ).strip(),
            rate_classes=tuple(
                RateClassRow(name, tuple(refs)) for name, refs in rate_classes.items()
            ),
            idempotency_description=str(
                self.component("parameters", "IdempotencyKey").get("description", "")
            ).strip(),
            idempotent_operations=tuple(p.ref for p in endpoints if p.idempotent),
            billable=tuple(
                BillableRow(p.ref, p.billable_retry) for p in endpoints if p.billable_retry
            ),
            replayed_description=str(
                self.component("headers", "IdempotentReplayed").get("description", "")
            ).strip(),
            roles=ROLES,
            role_rows=tuple(
                RoleRow(p.ref, tuple(flag for _, flag in p.role_flags)) for p in endpoints
            ),
            requirement_groups=groups,
            variables=STANDARD_VARIABLES,
        )

    def site(self) -> DocsSite:
        info = self.doc["info"]
        endpoints = tuple(self.endpoint(op) for op in self.operations)
        events = tuple(self.event(op) for op in self.event_operations)
        tags = []
        for tag in self.doc.get("tags", []):
            pages = tuple(p for p in endpoints if p.tag == tag["name"])
            tags.append(
                TagGroup(tag["name"], kebab(tag["name"]), str(tag.get("description", "")), pages)
            )
        untagged = [p for p in endpoints if p.tag not in {t.name for t in tags}]
        if untagged:
            raise ValueError(
                f"an operation tag missing from the root `tags`: {untagged[0].operation_id}"
            )
        index = IndexPage(
            ref=PageRef("API Reference", INDEX_SLUG),
            summary=str(info.get("summary", "")),
            description=str(info.get("description", "")).strip(),
            conventions=self.conventions(endpoints),
            tags=tuple(tags),
            events=events,
            contact_email=str(info.get("contact", {}).get("email", "")),
            api_title=str(info["title"]),
        )
        navigation = (
            NavGroup("Overview", (index.ref,)),
            *(NavGroup(t.name, tuple(p.ref for p in t.pages)) for t in tags),
            NavGroup("Webhook events", tuple(e.ref for e in events)),
        )
        return DocsSite(
            api_title=str(info["title"]),
            api_version=str(info["version"]),
            summary=str(info.get("summary", "")),
            docs_url=DOCS_URL,
            index=index,
            endpoints=endpoints,
            events=events,
            navigation=navigation,
        )


def build_site(document: dict[str, Any], catalog: RequirementCatalog) -> DocsSite:
    """The whole view model of the docs, from a bundled document and its requirement catalog."""
    return _Builder(document, catalog).site()


def site_from_spec() -> DocsSite:
    """The view model of the spec this package ships with (or `APOLLOSPACE_SPEC_DIR`)."""
    from apollospace_spec import bundled_spec, load_catalog

    return build_site(bundled_spec(), load_catalog())


__all__ = [
    "DocsSite",
    "EndpointPage",
    "EventPage",
    "ExampleView",
    "Field",
    "IndexPage",
    "PageRef",
    "build_site",
    "sign",
    "site_from_spec",
]
