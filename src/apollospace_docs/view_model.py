"""The docs' view model: small frozen dataclasses built from the bundled spec and the catalog.

Templates see only these objects, never the raw spec dict, so a template cannot
reach into the document and every fact on a page has one builder here.
"""

from __future__ import annotations

import http
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from apollospace_docs.changelog import ReleaseView, release_history
from apollospace_docs.examples import STANDARD_VARIABLES, RequestView, build_request
from apollospace_docs.fields import Field, FieldBuilder, assemble_example
from apollospace_docs.text import (
    after_first_sentence,
    after_summary,
    first_sentence,
    kebab,
    one_line,
    pretty_json,
)
from apollospace_docs.variables import Variable
from apollospace_spec import Operation, RequirementCatalog, iter_operations
from apollospace_spec.compat.deprecation import banner as deprecation_banner
from apollospace_spec.model import resolve
from apollospace_spec.webhook_signing import sign

DOCS_URL = "https://docs.apollospace.ai"
SECTION = "en/api-reference"
INDEX_SLUG = f"{SECTION}/introduction"
TOKEN_SLUG = f"{SECTION}/getting-a-token"
ERRORS_SLUG = f"{SECTION}/errors"
CHANGELOG_SLUG = f"{SECTION}/changelog"
CONFORMANCE_SLUG = f"{SECTION}/conformance"
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
    common: bool = False


@dataclass(frozen=True)
class ErrorUse:
    """One error code and the operations that document it (the error reference page)."""

    error: ErrorView
    operations: tuple[PageRef, ...]


@dataclass(frozen=True)
class RateLimitRow:
    """The limit of one operation type, as the spec states it."""

    rate_class: str
    limit: str
    operations: tuple[PageRef, ...]


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
    request_example: RequestView
    response_examples: tuple[ExampleView, ...]
    links: tuple[LinkView, ...]
    warning: str
    body_text: str

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
    body_text: str

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
    rate_limits: tuple[RateLimitRow, ...]
    rate_limit_note: str
    idempotency_description: str
    idempotent_operations: tuple[PageRef, ...]
    billable: tuple[BillableRow, ...]
    replayed_description: str
    roles: tuple[str, ...]
    role_rows: tuple[RoleRow, ...]
    requirement_groups: dict[str, RequirementGroup]
    variables: tuple[Variable, ...]
    rate_limit_prose: str = ""


@dataclass(frozen=True)
class GuidePage:
    """A page that is not one operation: getting a token, the error reference, the changelog,
    conformance."""

    ref: PageRef
    kind: str
    summary: str
    conventions: Conventions
    errors: tuple[ErrorUse, ...] = ()
    requirement_groups: tuple[RequirementGroup, ...] = ()
    requirement_users: tuple[tuple[str, tuple[PageRef, ...]], ...] = ()
    releases: tuple[ReleaseView, ...] = ()
    change_links: tuple[tuple[str, PageRef], ...] = ()

    @property
    def title(self) -> str:
        return self.ref.title

    def page_of(self, label: str) -> PageRef | None:
        """The page of an operation the changelog names (None once it is removed)."""
        return next((ref for name, ref in self.change_links if name == label), None)

    def users_of(self, requirement_id: str) -> tuple[PageRef, ...]:
        return next((refs for rid, refs in self.requirement_users if rid == requirement_id), ())


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
    token: GuidePage
    errors: GuidePage
    changelog: GuidePage
    conformance: GuidePage
    endpoints: tuple[EndpointPage, ...]
    events: tuple[EventPage, ...]
    navigation: tuple[NavGroup, ...]

    @property
    def pages(self) -> tuple[IndexPage | GuidePage | EndpointPage | EventPage, ...]:
        """Every page in navigation order."""
        by_slug = {p.ref.slug: p for p in self._all()}
        return tuple(by_slug[ref.slug] for group in self.navigation for ref in group.pages)

    def _all(self) -> tuple[IndexPage | GuidePage | EndpointPage | EventPage, ...]:
        return (
            self.index,
            self.token,
            self.errors,
            self.changelog,
            *self.endpoints,
            *self.events,
            self.conformance,
        )


# --- the builder -----------------------------------------------------------------------


class _Builder:
    def __init__(
        self,
        document: dict[str, Any],
        catalog: RequirementCatalog,
        releases: tuple[ReleaseView, ...] = (),
    ) -> None:
        self.doc = document
        self.catalog = catalog
        self.releases = releases
        self.fields = FieldBuilder(document)
        self.server_url = str(document["servers"][0]["url"]).rstrip("/")
        self.version_prefix = "/" + self.server_url.rsplit("/", 1)[-1]
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
        idempotent = any(p["name"].lower() == "idempotency-key" for p in parameters)
        roles = tuple(definition.get("x-apollospace-roles", []))
        errors = self._errors(op, idempotent=idempotent, restricted=set(roles) != set(ROLES))
        examples = self._response_examples(op, status, raw, errors)
        request = build_request(
            self.doc,
            method=op.method,
            path=op.path,
            version_prefix=self.version_prefix,
            parameters=parameters,
            authenticated=authenticated,
            body_schema=body_schema,
            body_example=body_example,
            paginated=op.is_list,
            success_status=status,
        )
        links = tuple(
            LinkView(name, str(link.get("description", "")), self.refs[link["operationId"]])
            for name, link in (raw.get("links") or {}).items()
            if link.get("operationId") in self.refs
        )
        billable = definition.get("x-apollospace-billable") or {}
        description = self.linked(str(definition.get("description", "")).strip())
        return EndpointPage(
            ref=self.refs[op.operation_id],
            operation_id=op.operation_id,
            method=op.method.upper(),
            path=op.path,
            server_url=self.server_url,
            tag=str((definition.get("tags") or ["Other"])[0]),
            summary=first_sentence(str(definition.get("description", ""))),
            description=description,
            body_text=after_summary(description),
            header_params=tuple(by_location["header"]),
            path_params=tuple(by_location["path"]),
            query_params=tuple(by_location["query"]),
            body_fields=body_fields,
            body_schema_name=self.schema_name(body_schema or {}),
            body_description=body_description,
            response=response,
            errors=errors,
            requirements=tuple(self.requirement(r) for r in op.requirement_ids),
            rate_class=str(definition.get("x-apollospace-rate-class", "")),
            roles=roles,
            billable_retry=" ".join(str(billable.get("retry", "")).split()),
            idempotent=idempotent,
            paginated=op.is_list,
            is_action=op.is_action,
            request_example=request,
            response_examples=examples,
            links=links,
            warning=" ".join(
                filter(
                    None,
                    (deprecation_banner(definition), self._warning(op, billable=bool(billable))),
                )
            ),
        )

    def _errors(
        self, op: Operation, *, idempotent: bool, restricted: bool
    ) -> tuple[ErrorView, ...]:
        """The operation's own codes, then the common codes that can reach it, each with its when."""
        own = [
            ErrorView(str(e["code"]), int(e["status"]), self.linked(str(e.get("description", ""))))
            for e in op.error_codes
        ]
        statuses = {str(s) for s in op.responses}
        common = []
        for e in self.common_errors:
            if e.code.startswith("idempotency_") and not idempotent:
                continue
            if e.code == "insufficient_role" and not restricted:
                continue
            if e.code in _BODY_ERRORS and "requestBody" not in op.definition:
                continue
            if str(e.status) in statuses or e.status in (401, 429, 500):
                common.append(replace(e, common=True))
        return tuple(sorted([*own, *common], key=lambda e: (e.status, e.common)))

    def _warning(self, op: Operation, *, billable: bool) -> str:
        """The `<Warning>` text of a destructive or Stars-spending operation, else empty."""
        name = op.operation_id.lower()
        if billable:
            return (
                "This operation spends Stars from the organization's wallet. Send an "
                "`Idempotency-Key` and reuse it only to retry the same call: a retry then "
                "never debits twice."
            )
        if op.method == "delete":
            return "This operation deletes data and cannot be undone."
        if "rotate" in name:
            return (
                "Rotating the secret invalidates the current one: deliveries are signed with "
                "the new secret, so update your verifier before you rotate."
            )
        if op.is_action and any(word in name for word in ("archive", "cancel")):
            return "This operation cannot be undone."
        return ""

    def linked(self, text: str) -> str:
        """Prose with every `operationId` code span turned into a link to that operation's page."""

        def link(match: re.Match[str]) -> str:
            ref = self.refs.get(match[1])
            return f"[`{match[1]}`]({ref.route})" if ref else match[0]

        return re.sub(r"(?<!\[)`([a-z][A-Za-z]+)`(?!\]\()", link, text)

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
        self, op: Operation, status: str, raw: dict[str, Any], errors: tuple[ErrorView, ...]
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
        examples.extend(self._error_examples(op, errors))
        return tuple(examples)

    def _error_examples(self, op: Operation, errors: tuple[ErrorView, ...]) -> list[ExampleView]:
        """One example per documented error status: its response's own example naming a code
        of this operation, else the Error schema's example of such a code."""
        codes = {e.code: e for e in errors}
        shared = [
            value
            for value in self.component("schemas", "Error").get("examples", [])
            if isinstance(value, dict)
        ]
        found: list[ExampleView] = []
        for status, raw in op.responses.items():
            if str(status).startswith("2"):
                continue
            media = (resolve(self.doc, raw).get("content") or {}).get("application/json") or {}
            candidates = [v for _, _, v in self.examples_of_media(media)] + shared
            # The operation's own codes first (the order of its error table), then common ones.
            rank = {e.code: i for i, e in enumerate(errors)}
            matching = []
            for value in candidates:
                error = value.get("error") if isinstance(value, dict) else None
                code = str(error.get("code", "")) if isinstance(error, dict) else ""
                if code in codes and codes[code].status == int(status):
                    matching.append((rank[code], code, value))
            chosen = min(matching, key=lambda m: m[0])[1:] if matching else None
            if chosen:
                found.append(
                    ExampleView(str(status), f"{status} {chosen[0]}", "", pretty_json(chosen[1]))
                )
        return found

    def examples_of_media(self, media: dict[str, Any]) -> list[tuple[str, str, Any]]:
        """A media type's own examples only (not its schema's)."""
        if media.get("examples"):
            return self.examples_of({"examples": media["examples"]})
        if "example" in media:
            return [("", "", media["example"])]
        return []

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
        description = self.linked(str(definition.get("description", "")).strip())
        return EventPage(
            ref=self.refs[op.operation_id],
            event_type=op.path,
            operation_id=op.operation_id,
            summary=first_sentence(str(definition.get("description", ""))),
            description=description,
            body_text=after_summary(description),
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
            rate_limits=self._rate_limits(rate_classes),
            rate_limit_note=self._rate_limit_note(),
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

    def _rate_limit_source(self) -> Any:
        """The spec's rate-limit numbers: the root `x-apollospace-rate-limits`, else the 429
        response's."""
        found = self.doc.get("x-apollospace-rate-limits")
        if found is None:
            found = self.component("responses", "TooManyRequests").get("x-apollospace-rate-limits")
        return found

    def _rate_limit_note(self) -> str:
        source = self._rate_limit_source()
        return str(source.get("description", "")).strip() if isinstance(source, dict) else ""

    def _rate_limits(self, rate_classes: dict[str, list[PageRef]]) -> tuple[RateLimitRow, ...]:
        """One row per operation type with the limit the spec states (`3000 requests per 60 s`)."""
        source = self._rate_limit_source()
        entries: dict[str, Any] = {}
        if isinstance(source, dict):
            table = source.get("limits", source.get("classes", source))
            if isinstance(table, dict):
                entries = {k: v for k, v in table.items() if k in rate_classes}
            elif isinstance(table, list):
                source = table
        if isinstance(source, list):
            for entry in source:
                name = entry.get("class", entry.get("rate_class", entry.get("type", "")))
                entries[str(name)] = entry
        rows = []
        for name, refs in rate_classes.items():
            if name in entries:
                rows.append(RateLimitRow(name, _limit_text(entries[name]), tuple(refs)))
        return tuple(rows)

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
        conventions = self.conventions(endpoints)
        intro, rate_prose = split_rate_limits(
            self.linked(integrator_prose(str(info.get("description", ""))))
        )
        index = IndexPage(
            ref=PageRef("API Reference", INDEX_SLUG),
            summary=str(info.get("summary", "")),
            description=intro,
            conventions=replace(conventions, rate_limit_prose=rate_prose),
            tags=tuple(tags),
            events=events,
            contact_email=str(info.get("contact", {}).get("email", "")),
            api_title=str(info["title"]),
        )
        token = GuidePage(
            PageRef("Getting a token", TOKEN_SLUG),
            "token",
            "Sign in, send the id_token as the bearer token, and renew it before it expires.",
            conventions,
        )
        errors = GuidePage(
            PageRef("Error codes", ERRORS_SLUG),
            "errors",
            "Every error code the API sends: its status, when it happens and what to do.",
            conventions,
            errors=self._error_uses(endpoints),
        )
        changelog = GuidePage(
            PageRef("Changelog", CHANGELOG_SLUG),
            "changelog",
            "What changed in the v1 contract, release by release, and what is not released yet.",
            conventions,
            releases=self.releases,
            change_links=self._change_links(),
        )
        conformance = self._conformance(conventions, endpoints, events)
        navigation = (
            NavGroup("Overview", (index.ref, token.ref, errors.ref, changelog.ref)),
            *(NavGroup(t.name, tuple(p.ref for p in t.pages)) for t in tags),
            NavGroup("Webhook events", tuple(e.ref for e in events)),
            NavGroup("Conformance", (conformance.ref,)),
        )
        return DocsSite(
            api_title=str(info["title"]),
            api_version=str(info["version"]),
            summary=str(info.get("summary", "")),
            docs_url=DOCS_URL,
            index=index,
            token=token,
            errors=errors,
            changelog=changelog,
            conformance=conformance,
            endpoints=endpoints,
            events=events,
            navigation=navigation,
        )

    def _change_links(self) -> tuple[tuple[str, PageRef], ...]:
        """The changelog's operation labels (`listLeads (GET /leads)`, `event lead.created`)
        that name an operation or event of this spec, with its page."""
        pages = {(ref.method, ref.path): ref for ref in self.refs.values()}
        found: dict[str, PageRef] = {}
        for release in self.releases:
            for section in release.sections:
                for item in section.items:
                    for label in item.operations:
                        ref = pages.get(_label_key(label))
                        if ref is not None:
                            found[label] = ref
        return tuple(found.items())

    def _error_uses(self, endpoints: tuple[EndpointPage, ...]) -> tuple[ErrorUse, ...]:
        """Every code, common ones first, each with the operations whose page lists it."""
        uses: dict[tuple[str, int], list[PageRef]] = {}
        views: dict[tuple[str, int], ErrorView] = {}
        for e in self.common_errors:
            views[(e.code, e.status)] = replace(e, common=True)
            uses[(e.code, e.status)] = []
        for page in endpoints:
            for e in page.errors:
                key = (e.code, e.status)
                views.setdefault(key, e)
                if not e.common:
                    uses.setdefault(key, []).append(page.ref)
        order = sorted(views, key=lambda k: (not views[k].common, k[1], k[0]))
        return tuple(ErrorUse(views[k], tuple(uses.get(k, []))) for k in order)

    def _conformance(
        self,
        conventions: Conventions,
        endpoints: tuple[EndpointPage, ...],
        events: tuple[EventPage, ...],
    ) -> GuidePage:
        """Every requirement of the catalog by class, with the pages that cite it."""
        users: dict[str, list[PageRef]] = {}
        for page in (*endpoints, *events):
            for r in page.requirements:
                users.setdefault(r.id, []).append(page.ref)
        groups = tuple(
            RequirementGroup(
                klass,
                description,
                tuple(self.requirement(r.id) for r in self.catalog.in_class(klass)),
            )
            for klass, description in self.catalog.classes.items()
        )
        listed = {r.id for g in groups for r in g.requirements}
        missing = [r for r in self.catalog.requirements if r not in listed]
        if missing:
            raise ValueError(f"a requirement of no declared class: {missing[0]}")
        return GuidePage(
            PageRef("Conformance", CONFORMANCE_SLUG),
            "conformance",
            "Every requirement of the contract by class, and how to certify a server against them.",
            conventions,
            requirement_groups=groups,
            requirement_users=tuple((rid, tuple(refs)) for rid, refs in users.items()),
        )


# Common codes only an operation with a request body can answer.
_BODY_ERRORS = ("malformed_json", "payload_too_large")
_CONFORMANCE_WORDS = ("requirements.yaml", "x-apollospace", "requirement with a stable ID")


_TOOLS_ONLY = re.compile(r"\s*\(`x-apollospace-[a-z-]+`\)")


def integrator_prose(text: str) -> str:
    """A description without what is written for the conformance kit's audience: sentences
    about requirement IDs and `x-apollospace-*` keys go (the Conformance page has them)."""
    kept = []
    for paragraph in (p for p in text.strip().split("\n\n") if p.strip()):
        paragraph = _TOOLS_ONLY.sub("", paragraph.strip())
        if not any(word in paragraph for word in _CONFORMANCE_WORDS):
            kept.append(paragraph)
            continue
        sentences = re.split(r"(?<=[.!?])\s+", one_line(paragraph))
        plain = [s for s in sentences if not any(word in s for word in _CONFORMANCE_WORDS)]
        if plain:
            kept.append(" ".join(plain))
    return "\n\n".join(kept)


def split_rate_limits(text: str) -> tuple[str, str]:
    """(the text without its rate-limit paragraphs, those paragraphs without their table).

    The index shows the rate limits in their own section, with the numbers as a table
    of its own; the description's copy would say them twice.
    """
    intro, rates = [], []
    for paragraph in text.split("\n\n"):
        about_rates = paragraph.startswith("Rate limits:") or "`rate_limited`" in paragraph
        if paragraph.lstrip().startswith("|") and rates:
            continue  # the description's table: the section's own table replaces it
        (rates if about_rates else intro).append(paragraph)
    return "\n\n".join(intro), "\n\n".join(rates)


def _label_key(label: str) -> tuple[str, str]:
    """(method, path) of a compat gate label: `listLeads (GET /leads)` -> (`GET`, `/leads`);
    `event lead.created` -> (``, `lead.created`)."""
    if label.startswith("event "):
        return "", label.removeprefix("event ")
    found = re.search(r"\(([A-Z]+) (\S+)\)$", label) or re.match(r"([A-Z]+) (\S+)$", label)
    return (found[1], found[2]) if found else ("", "")


def _limit_text(entry: Any) -> str:
    """`3000 requests per 60 seconds` from `{requests: 3000, window_seconds: 60}` and kin."""
    if isinstance(entry, int | float):
        return f"{entry} requests per minute"
    if isinstance(entry, str):
        return entry
    count = next(
        (entry[k] for k in ("requests", "limit", "max_requests", "count") if k in entry), None
    )
    window = next(
        (entry[k] for k in ("window_seconds", "window", "per_seconds", "period") if k in entry),
        None,
    )
    text = f"{count} requests" if count is not None else ""
    if window is not None:
        text += f" per {window} seconds" if isinstance(window, int | float) else f" per {window}"
    burst = entry.get("burst")
    if burst is not None:
        text += f", bursts up to {burst}"
    note = str(entry.get("description", "")).strip()
    return " ".join(p for p in (text + ("." if text else ""), note) if p)


def build_site(
    document: dict[str, Any],
    catalog: RequirementCatalog,
    releases: tuple[ReleaseView, ...] = (),
) -> DocsSite:
    """The whole view model of the docs, from a bundled document, its requirement catalog
    and the release history of the changelog page (`changelog.release_history`)."""
    return _Builder(document, catalog, releases).site()


def site_from_spec() -> DocsSite:
    """The view model of the spec this package ships with (or `APOLLOSPACE_SPEC_DIR`)."""
    from apollospace_spec import bundled_spec, load_catalog
    from apollospace_spec.locate import spec_root

    document = bundled_spec()
    return build_site(document, load_catalog(), release_history(document, spec_root()))


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
