"""Compare two bundled documents operation by operation, and event by event.

Operations are matched by method and path shape (`/leads/{lead_id}` and
`/leads/{id}` are the same operation); parameters by location and name (path
parameters by position). For operations the client sends the request and
reads the response; for webhooks it is the other way round: the client
receives the payload (compared like a response) and answers it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

from apollospace_spec.compat.changes import Change, Promise
from apollospace_spec.compat.deprecation import deprecation_of, sunset_passed
from apollospace_spec.compat.schemas import Direction, SchemaDiff, escape
from apollospace_spec.model import HTTP_METHODS, resolve

_RATE_RANK = {"read": 0, "write": 1, "billable": 2}
_TEMPLATE = re.compile(r"\{[^}]+\}")


def compare(base: dict[str, Any], head: dict[str, Any], today: dt.date | None = None) -> list[Change]:
    """Every classified difference between `base` (the released contract) and `head`."""
    today = today or dt.datetime.now(dt.UTC).date()
    changes: list[Change] = list(_root(base, head))
    for section in ("paths", "webhooks"):
        old, new = _operations(base, section), _operations(head, section)
        for key in [*old, *(k for k in new if k not in old)]:
            if key not in new:
                changes.extend(_removed(base, old[key], section, today))
            elif key not in old:
                changes.append(Change("operation-added", _label(head, new[key], section), new[key][3], "new " + ("event" if section == "webhooks" else "operation"), False))
            else:
                changes.extend(_OperationDiff(base, head, old[key], new[key], section, today).changes())
    return changes


def _operations(document: dict[str, Any], section: str) -> dict[tuple[str, str], tuple[str, str, dict[str, Any], str]]:
    found = {}
    for path, item in (document.get(section) or {}).items():
        item = resolve(document, item)
        for method in HTTP_METHODS:
            if isinstance(item.get(method), dict):
                pointer = f"#/{section}/{escape(path)}/{method}"
                found[(_TEMPLATE.sub("{}", path), method)] = (path, method, {**item[method], "__item__": item}, pointer)
    return found


def _label(document: dict[str, Any], operation: tuple[str, str, dict[str, Any], str], section: str) -> str:
    path, method, definition, _ = operation
    if section == "webhooks":
        return f"event {path}"
    name = definition.get("operationId")
    return f"{name} ({method.upper()} {path})" if name else f"{method.upper()} {path}"


def _removed(base: dict[str, Any], operation: tuple[str, str, dict[str, Any], str], section: str, today: dt.date) -> Iterator[Change]:
    label, pointer = _label(base, operation, section), operation[3]
    definition = operation[2]
    if sunset_passed(definition, today):
        sunset = deprecation_of(definition)
        yield Change("operation-removed-after-sunset", label, pointer, f"removed after its sunset ({sunset.sunset if sunset else '?'})", False)
        return
    found = deprecation_of(definition)
    why = f"removed before its sunset {found.sunset}" if found and definition.get("deprecated") else "removed without a deprecation whose sunset has passed"
    who = "receivers relying on it break" if section == "webhooks" else "clients calling it break"
    yield Change("operation-removed", label, pointer, f"{why}: {who}; publish the change under /v2", True, Promise.OPERATIONS)


def _root(base: dict[str, Any], head: dict[str, Any]) -> Iterator[Change]:
    old = [urlparse(s.get("url", "")).path.rstrip("/") for s in base.get("servers") or []]
    new = [urlparse(s.get("url", "")).path.rstrip("/") for s in head.get("servers") or []]
    if old and new and old[0] != new[0]:
        yield Change("base-url", "(document)", "#/servers/0/url", f"base path {old[0] or '/'} -> {new[0] or '/'}", True, Promise.BASE_URL)
    old_errors = {(e.get("code"), int(e.get("status", 0))) for e in base.get("x-apollospace-common-errors") or []}
    new_errors = {(e.get("code"), int(e.get("status", 0))) for e in head.get("x-apollospace-common-errors") or []}
    for code, status in sorted(new_errors - old_errors):
        yield Change("error-code-added", "(every operation)", "#/x-apollospace-common-errors", f"new common error code {code} ({status}): clients may not handle it", True, Promise.STATUS_CODES)
    for code, status in sorted(old_errors - new_errors):
        yield Change("error-code-removed", "(every operation)", "#/x-apollospace-common-errors", f"common error code {code} ({status}) no longer answered", False)


class _OperationDiff:
    def __init__(self, base: dict[str, Any], head: dict[str, Any], old: tuple[str, str, dict[str, Any], str],
                 new: tuple[str, str, dict[str, Any], str], section: str, today: dt.date) -> None:
        self.base, self.head, self.section, self.today = base, head, section, today
        self.old, self.new = old[2], new[2]
        self.pointer = new[3]
        self.label = _label(head, new, section)
        self.schemas = SchemaDiff(base, head, self.label, today)
        if section == "webhooks":
            self.schemas.words = {"request": "acknowledgement", "response": "payload"}
        # The client sends requests to operations, and receives the payloads of webhooks.
        self.sent: Direction = "response" if section == "webhooks" else "request"
        self.received: Direction = "request" if section == "webhooks" else "response"

    def change(self, kind: str, pointer: str, reason: str, breaking: bool, promise: Promise | None = None, *, deprecation: bool = False) -> Change:
        return Change(kind, self.label, pointer, reason, breaking, promise if breaking else None, deprecation)

    def changes(self) -> list[Change]:
        found: list[Change] = []
        parts = [self._deprecation, self._parameters, self._request_body, self._responses, self._errors]
        if self.section == "paths":  # security, rate classes and roles govern calls to the API, not deliveries
            parts.append(self._access)
        for part in parts:
            found.extend(part())
        return found

    def _deprecation(self) -> Iterator[Change]:
        if self.new.get("deprecated") is True and self.old.get("deprecated") is not True:
            found = deprecation_of(self.new)
            when = f" (announced {found.announced}, sunset {found.sunset})" if found else ""
            yield self.change("deprecated", self.pointer, f"operation deprecated{when}", False, deprecation=True)

    def _parameters(self) -> Iterator[Change]:
        old, new = self._params(self.base, self.old), self._params(self.head, self.new)
        for key in [*old, *(k for k in new if k not in old)]:
            where = f"{self.pointer}/parameters/{key[0]}/{escape(key[1])}"
            name = f"{key[0]} parameter '{key[1]}'"
            if key not in new:
                if sunset_passed(old[key], self.today):
                    yield self.change("parameter-removed-after-sunset", where, f"{name} removed after its sunset", False)
                else:
                    yield self.change("parameter-removed", where, f"{name} removed: requests sending it are refused or misread", True, Promise.REQUESTS)
                continue
            if key not in old:
                required = bool(new[key].get("required"))
                yield self.change("parameter-added", where, f"new {'required' if required else 'optional'} {name}" + (": requests without it are refused" if required else ""), required, Promise.REQUESTS)
                continue
            if new[key].get("required") and not old[key].get("required"):
                yield self.change("parameter-required", f"{where}/required", f"{name} becomes required: requests without it are refused", True, Promise.REQUESTS)
            elif old[key].get("required") and not new[key].get("required"):
                yield self.change("parameter-optional", f"{where}/required", f"{name} becomes optional", False)
            if new[key].get("deprecated") is True and old[key].get("deprecated") is not True:
                found = deprecation_of(new[key])
                when = f" (announced {found.announced}, sunset {found.sunset})" if found else ""
                yield self.change("deprecated", where, f"{name} deprecated{when}", False, deprecation=True)
            yield from self.schemas.compare(old[key].get("schema", {}), new[key].get("schema", {}), "request", f"{where}/schema")

    def _params(self, document: dict[str, Any], definition: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        position = 0
        for raw in [*definition["__item__"].get("parameters", []), *definition.get("parameters", [])]:
            parameter = resolve(document, raw)
            where, name = parameter.get("in", "?"), str(parameter.get("name", "?"))
            if where == "path":  # path parameters are matched by position: a rename is not a change
                key = ("path", f"#{position}")
                position += 1
            else:
                key = (where, name.lower() if where == "header" else name)
            merged[key] = parameter
        return merged

    def _request_body(self) -> Iterator[Change]:
        old = resolve(self.base, self.old.get("requestBody")) or None
        new = resolve(self.head, self.new.get("requestBody")) or None
        where = f"{self.pointer}/requestBody"
        body = "payload" if self.section == "webhooks" else "request body"
        if old is None and new is None:
            return
        if old is None:
            required = bool(new.get("required"))
            yield self.change("body-added", where, f"new {'required ' if required else ''}{body}", required and self.sent == "request", Promise.REQUESTS)
            return
        if new is None:
            yield self.change("body-removed", where, f"{body} removed: clients sending or reading it break", True, Promise.REQUESTS if self.sent == "request" else Promise.RESPONSES)
            return
        if self.sent == "request" and new.get("required") and not old.get("required"):
            yield self.change("body-required", f"{where}/required", f"{body} becomes required", True, Promise.REQUESTS)
        yield from self._content(old, new, where, self.sent)

    def _content(self, old: dict[str, Any], new: dict[str, Any], where: str, direction: Direction) -> Iterator[Change]:
        old_media, new_media = old.get("content") or {}, new.get("content") or {}
        promise = Promise.REQUESTS if direction == "request" else Promise.RESPONSES
        for media in [*old_media, *(m for m in new_media if m not in old_media)]:
            here = f"{where}/content/{escape(media)}"
            if media not in new_media:
                yield self.change("media-type-removed", here, f"{media} no longer {'accepted' if direction == 'request' else 'answered'}", True, promise)
            elif media not in old_media:
                yield self.change("media-type-added", here, f"{media} {'accepted' if direction == 'request' else 'may be answered'}", direction == "response", promise)
            else:
                yield from self.schemas.compare(old_media[media].get("schema", {}), new_media[media].get("schema", {}), direction, f"{here}/schema")

    def _responses(self) -> Iterator[Change]:
        old, new = self.old.get("responses") or {}, self.new.get("responses") or {}
        for status in [*old, *(s for s in new if s not in old)]:
            where = f"{self.pointer}/responses/{status}"
            if status not in new:
                success = str(status).startswith("2")
                reason = f"status {status} no longer answered" + (": clients waiting for it break" if success else "")
                yield self.change("status-removed", where, reason, success, Promise.STATUS_CODES)
                continue
            if status not in old:
                yield self.change("status-added", where, f"new status {status}: clients handle only the documented ones", True, Promise.STATUS_CODES)
                continue
            old_response, new_response = resolve(self.base, old[status]), resolve(self.head, new[status])
            yield from self._headers(old_response, new_response, where)
            yield from self._content(old_response, new_response, where, self.received)

    def _headers(self, old: dict[str, Any], new: dict[str, Any], where: str) -> Iterator[Change]:
        old_headers = {k.lower(): resolve(self.base, v) for k, v in (old.get("headers") or {}).items()}
        new_headers = {k.lower(): resolve(self.head, v) for k, v in (new.get("headers") or {}).items()}
        names = {k.lower(): k for k in [*(new.get("headers") or {}), *(old.get("headers") or {})]}
        for key in [*old_headers, *(k for k in new_headers if k not in old_headers)]:
            here = f"{where}/headers/{escape(names[key])}"
            if key not in new_headers:
                yield self.change("header-removed", here, f"response header {names[key]} removed", True, Promise.RESPONSES)
            elif key not in old_headers:
                yield self.change("header-added", here, f"new response header {names[key]}", False)
            else:
                if old_headers[key].get("required") and not new_headers[key].get("required"):
                    yield self.change("header-optional", f"{here}/required", f"response header {names[key]} may now be absent", True, Promise.RESPONSES)
                yield from self.schemas.compare(old_headers[key].get("schema", {}), new_headers[key].get("schema", {}), "response", f"{here}/schema")

    def _errors(self) -> Iterator[Change]:
        old = {(e.get("code"), int(e.get("status", 0))) for e in self.old.get("x-apollospace-errors") or []}
        new = {(e.get("code"), int(e.get("status", 0))) for e in self.new.get("x-apollospace-errors") or []}
        where = f"{self.pointer}/x-apollospace-errors"
        for code, status in sorted(new - old):
            yield self.change("error-code-added", where, f"new error code {code} ({status}): clients may not handle it", True, Promise.STATUS_CODES)
        for code, status in sorted(old - new):
            yield self.change("error-code-removed", where, f"error code {code} ({status}) no longer answered", False)

    def _access(self) -> Iterator[Change]:
        old_security = _security(self.old.get("security", self.base.get("security")))
        new_security = _security(self.new.get("security", self.head.get("security")))
        if old_security != new_security:
            # A /v1 client's credentials satisfy some old alternative; it keeps working if a new one asks no more.
            keeps = all(any(n <= o for n in new_security) for o in old_security) if new_security else True
            yield self.change("security", f"{self.pointer}/security", "security requirements changed" + ("" if keeps else ": /v1 credentials may be refused"), not keeps, Promise.ACCESS)
        old_rate, new_rate = self.old.get("x-apollospace-rate-class", "read"), self.new.get("x-apollospace-rate-class", "read")
        if old_rate != new_rate:
            stricter = _RATE_RANK.get(new_rate, 9) > _RATE_RANK.get(old_rate, 9)
            reason = f"rate class {old_rate} -> {new_rate}" + (": it now counts against a smaller limit" if stricter else "")
            yield self.change("rate-class", f"{self.pointer}/x-apollospace-rate-class", reason, stricter, Promise.ACCESS)
        old_roles = set(self.old.get("x-apollospace-roles") or ("owner", "admin", "member", "viewer"))
        new_roles = set(self.new.get("x-apollospace-roles") or ("owner", "admin", "member", "viewer"))
        if old_roles - new_roles:
            yield self.change("roles-removed", f"{self.pointer}/x-apollospace-roles", f"role(s) {', '.join(sorted(old_roles - new_roles))} no longer allowed", True, Promise.ACCESS)
        if new_roles - old_roles:
            yield self.change("roles-added", f"{self.pointer}/x-apollospace-roles", f"role(s) {', '.join(sorted(new_roles - old_roles))} now allowed", False)
        if "x-apollospace-billable" in self.new and "x-apollospace-billable" not in self.old:
            yield self.change("billable", f"{self.pointer}/x-apollospace-billable", "operation now spends Stars", True, Promise.ACCESS)
        elif "x-apollospace-billable" in self.old and "x-apollospace-billable" not in self.new:
            yield self.change("not-billable", f"{self.pointer}/x-apollospace-billable", "operation no longer spends Stars", False)


def _security(requirements: Any) -> set[frozenset[tuple[str, str]]]:
    """Each alternative as the set of (scheme, scope) it needs; a scheme without scopes as (scheme, '')."""
    alternatives = set()
    for entry in requirements or []:
        needs = set()
        for scheme, scopes in (entry or {}).items():
            needs.add((scheme, ""))
            needs.update((scheme, scope) for scope in scopes or [])
        alternatives.add(frozenset(needs))
    return alternatives
