"""Runnable cURL examples: shell variables for the server, credentials and every id.

An example reads its target and credentials from `$APOLLOSPACE_URL`,
`$APOLLOSPACE_TOKEN` and `$APOLLOSPACE_ORG`, each path parameter from one
variable (`{lead_id}` -> `$LEAD_ID`), the Idempotency-Key from
`$IDEMPOTENCY_KEY`, and sends the spec's request example as the body, with
every id in it (`pipeline_id`, `stage_ids`, ...) replaced by a variable too, so
the same command runs against any server once the variables are set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from apollospace_docs.text import first_sentence, one_line, pretty_json
from apollospace_spec.model import resolve

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HEADER_VARIABLES = {"x-organization-id": "APOLLOSPACE_ORG", "idempotency-key": "IDEMPOTENCY_KEY"}


@dataclass(frozen=True)
class Variable:
    """A shell variable an example reads, and what to put in it."""

    name: str
    description: str


STANDARD_VARIABLES = (
    Variable("APOLLOSPACE_URL", "The API's base URL, `/v1` included."),
    Variable("APOLLOSPACE_TOKEN", "Your bearer token (the `id_token` issued after login)."),
    Variable(
        "APOLLOSPACE_ORG", "The id of the organization the call acts in (`X-Organization-Id`)."
    ),
    Variable(
        "IDEMPOTENCY_KEY",
        "A fresh unique key per operation, for example `$(uuidgen)`; reuse it only to retry.",
    ),
)


@dataclass(frozen=True)
class CurlExample:
    """A bash command and the variables it reads beyond the standard ones."""

    script: str
    variables: tuple[Variable, ...]
    standard_variables: tuple[str, ...]


def _heredoc_escape(text: str) -> str:
    """Text safe inside an unquoted heredoc: only our `$VARIABLES` expand."""
    return text.replace("\\", "\\\\").replace("$", "\\$").replace("`", "\\`")


class _BodyVariables:
    """Replaces the ids of a request example with variables, naming each after its field."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.by_value: dict[tuple[str, str], str] = {}
        self.variables: dict[str, Variable] = {}

    def substitute(self, value: Any, raw: dict[str, Any], key: str = "", where: str = "") -> Any:
        schema = self._unwrap(raw)
        if isinstance(value, dict):
            properties = schema.get("properties") or {}
            return {
                name: self.substitute(
                    item, properties.get(name, {}), name, f"{where}.{name}" if where else name
                )
                for name, item in value.items()
            }
        if isinstance(value, list):
            items = schema.get("items", {})
            if (
                key.endswith("_ids")
                and value
                and all(isinstance(v, str) and _UUID.match(v) for v in value)
            ):
                base = key[: -len("_ids")].upper() + "_ID"
                return [
                    self._variable(
                        f"{base}_{index}",
                        (key, v),
                        f"`{where}[{index - 1}]`",
                        self._description(items),
                    )
                    for index, v in enumerate(value, start=1)
                ]
            return [self.substitute(v, items, key, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, str) and key.endswith("_id") and _UUID.match(value):
            known = self.by_value.get((key, value))
            if known:
                return known
            base = key.upper()
            taken = sum(1 for k, _ in self.by_value if k == key)
            name = base if taken == 0 else f"{base}_{taken + 1}"
            return self._variable(name, (key, value), f"`{where}`", self._description(raw))
        return value

    def _description(self, raw: dict[str, Any]) -> str:
        """A field's own description, or its schema's unless that is a bare format (Uuid)."""
        if raw.get("description"):
            return str(raw["description"])
        target = self._unwrap(raw)
        return "" if "format" in target else str(target.get("description", ""))

    def _variable(self, name: str, identity: tuple[str, str], where: str, description: str) -> str:
        if name in self.variables:
            raise ValueError(f"two ids of a request example would share the variable ${name}")
        placeholder = f"@@{name}@@"
        self.by_value[identity] = placeholder
        text = f"Sent as {where} in the body." + (
            f" {one_line(description)}" if description else ""
        )
        self.variables[name] = Variable(name, text)
        return placeholder

    def _unwrap(self, schema: dict[str, Any]) -> dict[str, Any]:
        schema = resolve(self.document, schema)
        for combinator in ("oneOf", "anyOf"):
            branches = [resolve(self.document, b) for b in schema.get(combinator, [])]
            non_null = [b for b in branches if b.get("type") != "null"]
            if len(non_null) == 1:
                schema = non_null[0]
        return schema


def build_curl(
    document: dict[str, Any],
    *,
    method: str,
    path: str,
    parameters: list[dict[str, Any]],
    authenticated: bool,
    body_schema: dict[str, Any] | None,
    body_example: Any,
) -> CurlExample:
    """The cURL command of one operation."""
    variables: list[Variable] = []
    url = "$APOLLOSPACE_URL" + path
    for parameter in parameters:
        if parameter["in"] == "path":
            name = parameter["name"].upper()
            url = url.replace("{" + parameter["name"] + "}", f"${name}")
            variables.append(Variable(name, first_sentence(str(parameter.get("description", "")))))
    query = [
        f"{p['name']}={p['example']}"
        for p in parameters
        if p["in"] == "query" and p.get("required") and "example" in p
    ]
    if query:
        url += "?" + "&".join(query)
    lines = [f"curl --request {method.upper()}", f'--url "{url}"']
    standard = ["APOLLOSPACE_URL"]
    if authenticated:
        lines.append('--header "Authorization: Bearer $APOLLOSPACE_TOKEN"')
        standard.append("APOLLOSPACE_TOKEN")
    for parameter in parameters:
        variable = _HEADER_VARIABLES.get(parameter["name"].lower())
        if parameter["in"] == "header" and variable:
            lines.append(f'--header "{parameter["name"]}: ${variable}"')
            standard.append(variable)
    heredoc = ""
    if body_schema is not None and body_example is not None:
        substituter = _BodyVariables(document)
        body = substituter.substitute(body_example, body_schema)
        text = _heredoc_escape(pretty_json(body))
        for variable in substituter.variables:
            text = text.replace(f"@@{variable}@@", f"${variable}")
        variables.extend(substituter.variables.values())
        lines.append('--header "Content-Type: application/json"')
        lines.append("--data @- <<EOF")
        heredoc = f"\n{text}\nEOF"
    script = " \\\n  ".join(lines) + heredoc
    return CurlExample(
        script=script, variables=tuple(variables), standard_variables=tuple(standard)
    )
