"""Rules on the document as a whole: validity, ids, references, extensions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from openapi_spec_validator import OpenAPIV31SpecValidator
from openapi_spec_validator.validation.exceptions import DuplicateOperationIDError
from referencing.exceptions import Unresolvable

from apollospace_spec.model import resolve, walk
from apollospace_spec.rules.registry import LintContext, Violation, rule


@rule("openapi-valid", "The document is valid OpenAPI 3.1 (openapi-spec-validator).")
def openapi_valid(ctx: LintContext) -> Iterator[Violation]:
    # The validator follows only some $refs (not those of schemas), so check them all here.
    dangling = list(_dangling_refs(ctx.document))
    yield from dangling
    try:
        errors = list(OpenAPIV31SpecValidator(ctx.document).iter_errors())
    except Unresolvable as exc:  # a dangling $ref raises instead of yielding (PointerToNowhere)
        if not dangling:
            ref = str(exc.ref)
            ref = "#" + ref if ref.startswith("/") else ref
            yield Violation("openapi-valid", "#", f"unresolvable $ref {ref}")
        return
    except Exception as exc:
        yield Violation("openapi-valid", "#", f"{type(exc).__name__}: {str(exc)[:300]}")
        return
    for error in errors:
        if isinstance(error, DuplicateOperationIDError):
            continue  # unique-operation-ids owns operationId uniqueness (and names both operations)
        parts = (str(part).replace("~", "~0").replace("/", "~1") for part in error.absolute_path)
        where = "#" + "".join("/" + part for part in parts)
        yield Violation("openapi-valid", where, error.message[:300])


def _dangling_refs(document: dict[str, Any]) -> Iterator[Violation]:
    """A violation for every `$ref` of the bundled document that does not resolve within it."""
    for pointer, node in walk(document):
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not isinstance(ref, str):
            continue
        try:
            resolve(document, {"$ref": ref})
        except (KeyError, IndexError, TypeError):
            yield Violation("openapi-valid", pointer, f"unresolvable $ref {ref}")


@rule("unique-operation-ids", "Every operation has an operationId, used once.")
def unique_operation_ids(ctx: LintContext) -> Iterator[Violation]:
    counts = Counter(op.definition.get("operationId") for op in ctx.operations(events=True))
    for op in ctx.operations(events=True):
        operation_id = op.definition.get("operationId")
        if not operation_id:
            yield Violation("unique-operation-ids", op.location, "no operationId")
        elif counts[operation_id] > 1:
            yield Violation("unique-operation-ids", op.location, f"operationId {operation_id} is used {counts[operation_id]} times")


@rule("no-unused-components", "Every component (and every source file) is referenced.")
def no_unused_components(ctx: LintContext) -> Iterator[Violation]:
    referenced = {node["$ref"] for _, node in walk(ctx.document) if isinstance(node, dict) and isinstance(node.get("$ref"), str)}
    for kind, members in (ctx.document.get("components") or {}).items():
        if kind == "securitySchemes":
            continue
        for name in members:
            if f"#/components/{kind}/{name}" not in referenced:
                yield Violation("no-unused-components", f"#/components/{kind}/{name}", "defined but never referenced")
    if ctx.source_root is not None:
        for sub in ("components", "paths", "webhooks"):
            for path in sorted((ctx.source_root / sub).rglob("*.yaml")):
                if path.resolve() not in ctx.source_files:
                    yield Violation("no-unused-components", str(path.relative_to(ctx.source_root)), "file is never referenced")


@rule("extensions-documented", "Every x- extension used is documented in spec/EXTENSIONS.md.")
def extensions_documented(ctx: LintContext) -> Iterator[Violation]:
    reported = set()
    for pointer, node in walk(ctx.document):
        if not isinstance(node, dict):
            continue
        for key in node:
            if isinstance(key, str) and key.startswith("x-") and key not in ctx.documented_extensions and key not in reported:
                reported.add(key)
                yield Violation("extensions-documented", pointer, f"{key} is not documented in EXTENSIONS.md")


@rule("requirement-ids-exist", "Every requirement ID an operation cites is in requirements.yaml.")
def requirement_ids_exist(ctx: LintContext) -> Iterator[Violation]:
    for op in ctx.operations(events=True):
        for requirement_id in op.requirement_ids:
            if requirement_id not in ctx.catalog:
                yield Violation("requirement-ids-exist", op.location, f"cites unknown requirement {requirement_id}")


@rule("versioned-server", "The server URL ends in /v1 and the info version is 1.x.", "/req/versioning/v1-prefix", "/req/versioning/v2-for-breaking")
def versioned_server(ctx: LintContext) -> Iterator[Violation]:
    servers = ctx.document.get("servers") or []
    if not servers:
        yield Violation("versioned-server", "#/servers", "no server")
    for index, server in enumerate(servers):
        if not str(server.get("url", "")).rstrip("/").endswith("/v1"):
            yield Violation("versioned-server", f"#/servers/{index}", f"{server.get('url')} does not end in /v1")
    version = str(ctx.document.get("info", {}).get("version", ""))
    if not version.startswith("1."):
        yield Violation("versioned-server", "#/info/version", f"{version!r}: /v1 documents are version 1.x")
    for path in ctx.document.get("paths") or {}:
        if path.startswith("/v1") or path.startswith("/v2"):
            yield Violation("versioned-server", f"#/paths/{path}", "the version belongs in the server URL, not the path")


WEBHOOK_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


@rule("webhook-events-signed", "Every webhook event documents a payload schema and the three Standard Webhooks headers.", "/req/webhooks/signature")
def webhook_events_signed(ctx: LintContext) -> Iterator[Violation]:
    events = [op for op in ctx.operations(events=True) if op.is_event]
    if not events:
        yield Violation("webhook-events-signed", "#/webhooks", "no webhook events are documented")
    for op in events:
        headers = {p["name"].lower(): p for p in op.parameters(ctx.document) if p.get("in") == "header"}
        for name in WEBHOOK_HEADERS:
            if name not in headers or not headers[name].get("required"):
                yield Violation("webhook-events-signed", op.location, f"does not document the required {name} header")
        body = resolve(ctx.document, op.definition.get("requestBody") or {})
        if not ((body.get("content") or {}).get("application/json") or {}).get("schema"):
            yield Violation("webhook-events-signed", op.location, "no application/json payload schema")
