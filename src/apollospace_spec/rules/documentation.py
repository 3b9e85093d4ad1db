"""Rules on what a reader needs: explained errors, error examples, described fields, stated limits.

Readers (the docs, Redoc, Mintlify) and tools (mocks, SDK generators) read the
same spec, so each of these lives in it and fails the lint when it is missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from apollospace_spec.model import Operation, resolve, walk
from apollospace_spec.rules.registry import LintContext, Violation, rule

RATE_CLASSES = ("read", "write", "billable")
# A sentence ends with . ! or ? followed by a space or the end ("e.g." inside one does not split it).
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)[.!?](\s|$)")


def _sentences(text: str) -> int:
    return len(_SENTENCE_END.findall(text.strip()))


def _error_entries(ctx: LintContext) -> Iterator[tuple[str, Any]]:
    """Every declared error entry, common and per operation, with its location."""
    for index, entry in enumerate(ctx.document.get("x-apollospace-common-errors") or []):
        yield f"#/x-apollospace-common-errors/{index}", entry
    for op in ctx.operations():
        for index, entry in enumerate(op.error_codes):
            yield f"{op.location}.x-apollospace-errors[{index}]", entry


@rule("error-codes-explained", "Every error code, common or per operation, says when it happens and what to do.", "/req/errors/documented-codes")
def error_codes_explained(ctx: LintContext) -> Iterator[Violation]:
    for where, entry in _error_entries(ctx):
        if not isinstance(entry, dict):
            continue  # error-codes-declared reports malformed entries
        code = entry.get("code")
        description = entry.get("description")
        if not isinstance(description, str) or not description.strip():
            yield Violation("error-codes-explained", where, f"{code} has no description (when it happens, what to do)")
        elif _sentences(description) < 2:
            yield Violation("error-codes-explained", where, f"{code}: the description needs two sentences at least: when it happens, then what to do")


def _declared_codes(ctx: LintContext) -> dict[int, set[str]]:
    """Every code any operation may send, by status (common codes and each operation's own)."""
    by_status: dict[int, set[str]] = {}
    entries = [*(ctx.document.get("x-apollospace-common-errors") or []), *(e for op in ctx.operations() for e in op.error_codes)]
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("status"), int):
            by_status.setdefault(entry["status"], set()).add(str(entry.get("code")))
    return by_status


def _codes_of(ctx: LintContext, op: Operation, status: int) -> set[str]:
    common = ctx.document.get("x-apollospace-common-errors") or []
    entries = [*common, *op.error_codes]
    return {str(e.get("code")) for e in entries if isinstance(e, dict) and e.get("status") == status}


def _example_codes(ctx: LintContext, response: dict[str, Any]) -> dict[str, str]:
    """The named examples of an error response's JSON body: name -> error.code ("" when it has none)."""
    media = (response.get("content") or {}).get("application/json") or {}
    found = {}
    for name, example in (media.get("examples") or {}).items():
        try:
            value = resolve(ctx.document, example).get("value")
        except (KeyError, IndexError, TypeError, AttributeError):
            continue  # openapi-valid reports a dangling $ref
        error = value.get("error") if isinstance(value, dict) else None
        found[str(name)] = str(error.get("code", "")) if isinstance(error, dict) else ""
    return found


@rule("error-examples", "Every error status an operation documents has an example of each code it may send.", "/req/errors/envelope")
def error_examples(ctx: LintContext) -> Iterator[Violation]:
    declared = _declared_codes(ctx)
    reported: set[tuple[str, str]] = set()
    missing: dict[tuple[str, str, str], list[str]] = {}  # (response, code, status) -> operations without its example
    for op in ctx.operations():
        for status, raw in op.responses.items():
            if str(status)[:1] not in "45" or not str(status).isdigit() or int(status) not in declared:
                continue  # a status no code is declared with: status-codes-from-table and error-codes-declared own it
            where = raw.get("$ref") if isinstance(raw, dict) else None
            if not isinstance(where, str):
                continue  # an inline error response: errors-use-shared-error reports it
            examples = _example_codes(ctx, resolve(ctx.document, raw))
            if not examples:
                if (where, "") not in reported:
                    reported.add((where, ""))
                    yield Violation("error-examples", where, f"the {status} body has no named examples (one per error code it may carry)")
                continue
            for name, code in examples.items():
                if code not in declared.get(int(status), set()) and (where, name) not in reported:
                    reported.add((where, name))
                    yield Violation("error-examples", f"{where}/examples/{name}", f"example code {code or '(none)'!r} is not a code documented with status {status}")
            shown = set(examples.values())
            for code in sorted(_codes_of(ctx, op, int(status)) - shown):
                missing.setdefault((where, code, str(status)), []).append(op.operation_id)
    for (where, code, status), operation_ids in missing.items():
        others = f" and {len(operation_ids) - 1} other(s)" if len(operation_ids) > 1 else ""
        yield Violation("error-examples", where, f"no example of {code} ({status}), which {operation_ids[0]}{others} may send")


def _properties(ctx: LintContext) -> Iterator[tuple[str, Any]]:
    """Every property of every schema of the document (example values excluded)."""
    for pointer, node in walk(ctx.document):
        if "/examples/" in pointer or pointer.endswith("/properties") or pointer.endswith("/examples"):
            continue
        properties = node.get("properties") if isinstance(node, dict) else None
        if isinstance(properties, dict):
            for name, schema in properties.items():
                yield f"{pointer}/properties/{name}", schema


@rule("properties-described", "Every schema property has a description of its own.")
def properties_described(ctx: LintContext) -> Iterator[Violation]:
    for pointer, schema in _properties(ctx):
        if not (isinstance(schema, dict) and isinstance(schema.get("description"), str) and schema["description"].strip()):
            yield Violation("properties-described", pointer, "property without a description (a $ref's target does not count: say what this field is here)")


def _limits(ctx: LintContext) -> dict[str, Any]:
    source = ctx.document.get("x-apollospace-rate-limits")
    limits = source.get("limits") if isinstance(source, dict) else None
    return limits if isinstance(limits, dict) else {}


@rule("rate-limits-stated", "Every rate class has its limit in x-apollospace-rate-limits and the description.", "/req/rate-limits/per-organization-and-type")
def rate_limits_stated(ctx: LintContext) -> Iterator[Violation]:
    limits = _limits(ctx)
    description = " ".join(str((ctx.document.get("info") or {}).get("description", "")).split())
    lines = str((ctx.document.get("info") or {}).get("description", "")).splitlines()
    used = {op.definition.get("x-apollospace-rate-class") for op in ctx.operations()}
    for name in [c for c in RATE_CLASSES if c in used or c in limits]:
        entry = limits.get(name)
        requests = entry.get("requests") if isinstance(entry, dict) else None
        window = entry.get("window_seconds") if isinstance(entry, dict) else None
        if not (isinstance(requests, int) and requests > 0 and isinstance(window, int) and window > 0):
            yield Violation("rate-limits-stated", f"#/x-apollospace-rate-limits/limits/{name}", "needs positive integers `requests` and `window_seconds`")
            continue
        if not any(f"`{name}`" in line and re.search(rf"\b{requests}\b", line) for line in lines):
            yield Violation("rate-limits-stated", "#/info/description", f"no line states the `{name}` limit of {requests} requests")
        if f"{window} seconds" not in description:
            yield Violation("rate-limits-stated", "#/info/description", f"the {window}-second window of `{name}` is not stated")
