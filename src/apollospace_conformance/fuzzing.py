"""The property-based layer: schemathesis over every operation of the spec.

The kit's response checks are registered as schemathesis checks, so fuzzed
responses are held to the same conventions as the behaviour tests. Built-in
schemathesis checks whose concern a kit check owns with finer attribution are
left out, so that one broken rule is reported under exactly one requirement.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlparse

import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import CheckContext
from schemathesis.core import NotSet

from apollospace_conformance.checks import (
    RESPONSE_CHECKS,
    ContractViolation,
    ResponseContext,
    SpecIndex,
)
from apollospace_conformance.settings import KitSettings, env_name
from apollospace_spec import bundled_spec
from apollospace_spec.model import Operation, resolve

TOKEN_VARIABLE = env_name("token_a")  # what reproductions show instead of tenant A's token

# Built-in schemathesis checks the fuzz layer runs, and the requirement each one verifies.
BUILTIN_REQUIREMENTS = {
    "not_a_server_error": "/req/responses/no-server-errors",
    "negative_data_rejection": "/req/status-codes/invalid-input-400",
    "missing_required_header": "/req/organization/header-required",
    "use_after_free": "/req/responses/resource-lifecycle",
    "ensure_resource_availability": "/req/responses/resource-lifecycle",
    "ignored_auth": "/req/auth/bearer-required",
}
FUZZ_REQUIREMENTS = sorted({*BUILTIN_REQUIREMENTS.values(), *(c.requirement for c in RESPONSE_CHECKS.values()), "/req/responses/valid-input-accepted", "/req/auth/invalid-token"})


def requirement_of_failure(failure: Any) -> str | None:
    """The requirement a schemathesis failure breaks (None: not one the kit attributes)."""
    exception = getattr(failure, "exception", None)
    if isinstance(exception, ContractViolation):
        return exception.requirement
    if getattr(failure, "scenario", None) is not None and getattr(failure.scenario, "name", "") != "NO_AUTH":
        return "/req/auth/invalid-token"  # ignored_auth's second probe: a made-up token was accepted
    for check in getattr(type(failure), "checks", ()):
        if check in BUILTIN_REQUIREMENTS:
            if check == "missing_required_header" and "authorization" in str(getattr(failure, "message", "")).lower():
                return "/req/auth/bearer-required"
            return BUILTIN_REQUIREMENTS[check]
    return None


class FuzzContext:
    """What the registered checks need, set once per run."""

    spec: SpecIndex | None = None
    by_label: dict[str, Operation] = {}


def _operation(case: Any) -> Operation | None:
    return FuzzContext.by_label.get(f"{case.method.upper()} {case.operation.path}")


def _response_context(response: Any, case: Any) -> ResponseContext | None:
    operation = _operation(case)
    if operation is None or FuzzContext.spec is None:
        return None
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = None
    return ResponseContext(
        spec=FuzzContext.spec, operation=operation, method=case.method.upper(), url=response.request.url,
        status=response.status_code, headers={k.lower(): v[0] if isinstance(v, list) else v for k, v in response.headers.items()},
        body=body, raw_body=response.content or b"", negative=not case.meta.generation.mode.is_positive if case.meta else False,
    )


def _kit_check(name: str) -> Any:
    function = RESPONSE_CHECKS[name].function

    def check(ctx: CheckContext, response: Any, case: Any) -> bool | None:
        context = _response_context(response, case)
        if context is not None and function(context):
            _exercised(RESPONSE_CHECKS[name].requirement, case, response)
        return None

    check.__name__ = f"apollospace_{name}"
    return check


def _exercised(requirement: str, case: Any, response: Any) -> None:
    """One generated exchange of evidence for `requirement`."""
    from apollospace_conformance import runtime

    run = runtime.active()
    if run is not None:
        run.state.exercised(requirement, sample=f"{case.method.upper()} {response.request.url} -> {response.status_code} (generated case)")


def builtin_evidence(case: Any, response: Any) -> None:
    """What the built-in checks exercised on one generated case: every check whose condition the case met."""
    positive = case.meta is None or case.meta.generation.mode.is_positive
    exercised = ["/req/responses/no-server-errors", "/req/auth/bearer-required"]  # ignored_auth replays every case without credentials
    if positive:
        exercised.append("/req/responses/valid-input-accepted")
    else:
        if 400 <= response.status_code < 500:  # refused: the rejection check judged a truly invalid case
            exercised.append("/req/status-codes/invalid-input-400")
        if "X-Organization-Id" not in (case.headers or {}):
            exercised.append("/req/organization/header-required")
    for requirement in exercised:
        _exercised(requirement, case, response)


def reproduction(case: Any, headers: dict[str, str] | None = None) -> str:
    """Schemathesis' own curl for a generated case; the Authorization it sanitizes is read from the kit's token variable."""
    return case.as_curl_command(headers=headers).replace("'Authorization: [Filtered]'", f'"Authorization: Bearer ${TOKEN_VARIABLE}"')


def apollospace_valid_input_accepted(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """A positive case must not get 400, unless with a semantic 400 code the operation documents."""
    context = _response_context(response, case)
    if context is None or context.negative or context.status != 400:
        return None
    if any(value is None for value in (case.path_parameters or {}).values()):
        return None  # a stateful link carried a nullable id's null into the path ('/runs/None'): not schema-valid input
    code = context.body.get("error", {}).get("code") if isinstance(context.body, dict) and isinstance(context.body.get("error"), dict) else None
    semantic = {entry["code"] for entry in context.operation.error_codes if int(entry["status"]) == 400}
    if code not in semantic:
        raise ContractViolation("/req/responses/valid-input-accepted", "a request valid against the spec accepted (2xx, or a documented 404/409)",
                                f"{case.method} {case.operation.path} answered 400 {code!r} to schema-valid input", reproduction(case))
    return None


def kit_checks() -> list[Any]:
    return [_kit_check(name) for name in RESPONSE_CHECKS] + [apollospace_valid_input_accepted]


def builtin_checks() -> list[Any]:
    import schemathesis.checks as core_checks
    from schemathesis.checks import load_all_checks
    from schemathesis.specs.openapi import checks as openapi_checks

    load_all_checks()
    found = []
    for name in BUILTIN_REQUIREMENTS:
        function = getattr(openapi_checks, name, None) or getattr(core_checks, name, None)
        if function is not None:
            found.append(function)
    return found


def build_schema(settings: KitSettings) -> Any:
    """The schemathesis schema of the bundled spec, configured for this run."""
    document = bundled_spec()
    FuzzContext.spec = SpecIndex(document)
    FuzzContext.by_label = {f"{op.method.upper()} {op.path}": op for op in FuzzContext.spec.operations}
    schema = schemathesis.openapi.from_dict(document, config=schemathesis.Config())
    profile = settings.profile_settings
    schema.config.update(base_url=settings.url.rstrip("/"), parameters={"X-Organization-Id": settings.org_a})
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE] if profile.negative else [GenerationMode.POSITIVE]
    schema.config.generation.update(max_examples=profile.max_examples, modes=modes, database="none", allow_extra_parameters=False)
    schema.config.seed = settings.seed
    return schema


def call_and_check(case: Any, kit: Any, key_source: Any) -> None:
    """Send one generated case as tenant A and run every check on the response."""
    settings: KitSettings = kit.settings
    kit.pacer.acquire()
    kit.record_case(case.method.upper(), case.path, {
        "path": dict(case.path_parameters or {}), "query": dict(case.query or {}), "headers": dict(case.headers or {}),
        "body": None if isinstance(case.body, NotSet) else case.body.hex() if isinstance(case.body, bytes) else case.body,
    })
    headers = {"Authorization": f"Bearer {settings.token_a}"}
    positive = case.meta is None or case.meta.generation.mode.is_positive
    if positive and case.headers and "Idempotency-Key" in case.headers:
        # Generated keys repeat ("0"); a correct server would then replay an older response.
        # Negative cases keep theirs: the key may be the deliberately invalid part.
        headers["Idempotency-Key"] = str(uuid.UUID(int=key_source.getrandbits(128), version=4))
    response = call_or_judge(case, kit, headers=headers)
    try:
        builtin_evidence(case, response)
        case.validate_response(response, checks=builtin_checks() + kit_checks(), headers=headers)
    finally:
        delete_created(kit, response.status_code, response.headers)


def call_or_judge(case: Any, kit: Any, **kwargs: Any) -> Any:
    """Send a generated case within the documented time; an unanswered one ends the test BLOCKED by /req/responses/timely.

    Skipping rather than failing stops hypothesis there: it would otherwise
    replay and shrink the hanging case, spending the documented time again on
    each attempt. Liveness has already recorded the broken requirement.
    """
    import requests

    from apollospace_conformance import liveness
    from apollospace_conformance.evidence import blocked

    try:
        return case.call(timeout=kit.settings.timeout, **kwargs)
    except requests.RequestException as exc:
        broken = liveness.judge_unanswered(kit, case.method.upper(), f"{kit.settings.url.rstrip('/')}{case.formatted_path}", exc,
                                             reproduction(case, kwargs.get("headers")))
        blocked(liveness.TIMELY, broken.received)


def delete_created(kit: Any, status: int, headers: Any) -> None:
    """Delete at once what a generated request created, where the spec has a DELETE for it.

    Generated webhook subscriptions would otherwise send every later event of the
    run to generated hosts, and generated leads would crowd the behaviour tests.
    """
    location = headers.get("location") or headers.get("Location")
    location = location[0] if isinstance(location, list) else location
    if status != 201 or not location:
        return
    prefix = urlparse(kit.settings.url).path.rstrip("/")
    path = urlparse(location).path
    relative = path[len(prefix):] if prefix and path.startswith(prefix) else path
    if isinstance(kit.spec.router.find("DELETE", relative), list):
        kit.created.append(("a", path))  # no DELETE: listed as left on the target
        return
    kit.tenant_a.delete(relative)


def singleton_settings(kit: Any) -> list[Operation]:
    """PUT operations without path ids that have a GET twin (the organization's settings, such as Stars caps)."""
    gets = {op.path for op in kit.spec.operations if op.method == "get"}
    return [op for op in kit.spec.operations if op.method == "put" and "{" not in op.path and op.path in gets]


def snapshot_settings(kit: Any) -> dict[str, Any]:
    """What those settings are now, as bodies their PUT accepts (read-only fields dropped)."""
    saved = {}
    for operation in singleton_settings(kit):
        current = kit.tenant_a.get(operation.path)
        body_schema = ((operation.definition.get("requestBody") or {}).get("content") or {}).get("application/json", {}).get("schema", {})
        accepted = resolve(kit.spec.document, body_schema).get("properties", {})
        if current.status == 200 and isinstance(current.response_body, dict):
            saved[operation.path] = {key: value for key, value in current.response_body.items() if key in accepted}
    return saved


def restore_settings(kit: Any, saved: dict[str, Any]) -> None:
    for path, body in saved.items():
        kit.tenant_a.put(path, body)
