"""Runnable request examples in cURL, Python (httpx) and JavaScript (fetch), from one view model.

`build_request` turns an operation into a `RequestView`: its method, its `/v1`
path, the variables it reads (`$APOLLOSPACE_TOKEN`, `$LEAD_ID`, ...), its query
and its body (the spec's request example with every id replaced by a variable).
`render_curl`, `render_python` and `render_javascript` print that one view in
each language, so the three can never disagree on a header or a field.

Every example makes its own Idempotency-Key inline, so running two of them
never reuses a key. cURL uses `od -An -N16 -tx1 /dev/urandom | tr -d ' \\n'`:
od, tr and /dev/urandom are POSIX and present on every Linux, macOS, BSD and
Git Bash, while `uuidgen` is missing from a stock Debian and
/proc/sys/kernel/random/uuid exists only on Linux. Python uses `uuid.uuid4()`,
JavaScript the global `crypto.randomUUID()` (Node 19+, every browser).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apollospace_docs.text import first_sentence, pretty_json
from apollospace_docs.variables import HEADER_VARIABLES, BodyVariables, Variable, heredoc_escape

CURL_KEY = "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \\n')"
API_VARIABLE = "APOLLOSPACE_API"
LIST_PAGE_SIZE = 50
_PLACEHOLDER = re.compile(r'"@@(?P<name>[A-Z][A-Z0-9_]*)@@"')

STANDARD_VARIABLES = (
    Variable(
        API_VARIABLE,
        "The API's origin, without `/v1` (the examples add it): `https://api.apollospace.ai`.",
    ),
    Variable("APOLLOSPACE_TOKEN", "Your bearer token: the `id_token` (see Getting a token)."),
    Variable(
        "APOLLOSPACE_ORG", "The id of the organization the call acts in (`X-Organization-Id`)."
    ),
)


@dataclass(frozen=True)
class RequestView:
    """One request, language-neutral: what every rendering of the example shows."""

    method: str
    version_prefix: str
    path: str
    path_variables: tuple[tuple[str, str], ...]
    query: tuple[tuple[str, str], ...]
    authenticated: bool
    organization: bool
    idempotent: bool
    body: str | None
    variables: tuple[Variable, ...]
    standard_variables: tuple[str, ...]
    paginated: bool
    success_status: str

    @property
    def curl(self) -> str:
        return render_curl(self)

    @property
    def python(self) -> str:
        return render_python(self)

    @property
    def javascript(self) -> str:
        return render_javascript(self)

    @property
    def url_path(self) -> str:
        """The path as written in docs: `/v1/leads/{lead_id}`."""
        return self.version_prefix + self.path

    def url_path_with(self, placeholder: Callable[[str], str]) -> str:
        """`url_path` with each path parameter replaced by `placeholder(variable)`, the language's way of reading it."""
        path = self.url_path
        for parameter, variable in self.path_variables:
            path = path.replace("{" + parameter + "}", placeholder(variable))
        return path


def build_request(
    document: dict[str, Any],
    *,
    method: str,
    path: str,
    version_prefix: str,
    parameters: list[dict[str, Any]],
    authenticated: bool,
    body_schema: dict[str, Any] | None,
    body_example: Any,
    paginated: bool,
    success_status: str,
) -> RequestView:
    """The request view of one operation."""
    variables: list[Variable] = []
    path_variables = []
    for parameter in parameters:
        if parameter["in"] == "path":
            name = parameter["name"].upper()
            path_variables.append((parameter["name"], name))
            variables.append(Variable(name, first_sentence(str(parameter.get("description", "")))))
    query = tuple(
        (str(p["name"]), str(p["example"]))
        for p in parameters
        if p["in"] == "query" and p.get("required") and "example" in p
    )
    if paginated:
        query = (*query, ("limit", str(LIST_PAGE_SIZE)))
    headers = {p["name"].lower() for p in parameters if p["in"] == "header"}
    standard = [API_VARIABLE] + (["APOLLOSPACE_TOKEN"] if authenticated else [])
    organization = "x-organization-id" in headers
    if organization:
        standard.append(HEADER_VARIABLES["x-organization-id"])
    body = None
    if body_schema is not None and body_example is not None:
        substituter = BodyVariables(document)
        body = pretty_json(substituter.substitute(body_example, body_schema))
        variables.extend(substituter.variables.values())
    return RequestView(
        method=method.upper(),
        version_prefix=version_prefix.rstrip("/"),
        path=path,
        path_variables=tuple(path_variables),
        query=query,
        authenticated=authenticated,
        organization=organization,
        idempotent="idempotency-key" in headers,
        body=body,
        variables=tuple(variables),
        standard_variables=tuple(standard),
        paginated=paginated,
        success_status=success_status,
    )


# --- cURL -------------------------------------------------------------------------------


def _curl_url(view: RequestView) -> str:
    return f"${API_VARIABLE}{view.url_path_with(lambda variable: f'${variable}')}"


def _curl_headers(view: RequestView) -> list[str]:
    lines = []
    if view.authenticated:
        lines.append('--header "Authorization: Bearer $APOLLOSPACE_TOKEN"')
    if view.organization:
        lines.append('--header "X-Organization-Id: $APOLLOSPACE_ORG"')
    if view.idempotent:
        lines.append(f'--header "Idempotency-Key: {CURL_KEY}"')
    return lines


def render_curl(view: RequestView) -> str:
    """A bash command; a list walks every page, following `next_cursor` until it is null."""
    if view.paginated:
        return _curl_list(view)
    url = _curl_url(view)
    if view.query:
        url += "?" + "&".join(f"{k}={v}" for k, v in view.query)
    lines = [f"curl --fail-with-body --request {view.method}", f'--url "{url}"']
    lines += _curl_headers(view)
    heredoc = ""
    if view.body is not None:
        text = heredoc_escape(view.body)
        text = re.sub(r"@@([A-Z][A-Z0-9_]*)@@", r"$\1", text)
        lines += ['--header "Content-Type: application/json"', "--data @- <<EOF"]
        heredoc = f"\n{text}\nEOF"
    return " \\\n  ".join(lines) + heredoc


def _curl_list(view: RequestView) -> str:
    options = ["curl --fail-with-body --silent --show-error --get", f'--url "{_curl_url(view)}"']
    options += [f'--data-urlencode "{k}={v}"' for k, v in view.query]
    options.append('${cursor:+--data-urlencode "cursor=$cursor"}')
    options += _curl_headers(view)
    request = " \\\n      ".join(options)
    return (
        "# Every page in turn: a page's next_cursor is the next request's cursor, null at the end.\n"
        'cursor=""\n'
        "while :; do\n"
        f"  page=$({request})\n"
        "  printf '%s\\n' \"$page\"\n"
        '  cursor=$(printf \'%s\' "$page" | sed -n \'s/.*"next_cursor": *"\\([^"]*\\)".*/\\1/p\')\n'
        '  [ -n "$cursor" ] || break\n'
        "done"
    )


# --- Python -----------------------------------------------------------------------------


def _python_literal(value: Any, indent: int = 0) -> str:
    """A JSON value as Python source; `"@@VAR@@"` becomes `os.environ["VAR"]`."""
    pad, inner = " " * indent, " " * (indent + 4)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [
            f"{inner}{json.dumps(k)}: {_python_literal(v, indent + 4)}," for k, v in value.items()
        ]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list):
        if not value:
            return "[]"
        items = [f"{inner}{_python_literal(v, indent + 4)}," for v in value]
        return "[\n" + "\n".join(items) + f"\n{pad}]"
    if isinstance(value, str):
        found = re.fullmatch(r"@@([A-Z][A-Z0-9_]*)@@", value)
        return f'os.environ["{found[1]}"]' if found else json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "True" if value else "False"
    if value is None:
        return "None"
    return json.dumps(value)


def _python_name(variable: str) -> str:
    return variable.lower()


def render_python(view: RequestView) -> str:
    """A Python script with httpx; prints the response body (or every item of every page)."""
    lines = ["import json", "import os", *(["import uuid"] if view.idempotent else []), ""]
    lines += ["import httpx", ""]
    lines.append(f'API = os.environ["{API_VARIABLE}"]  # https://api.apollospace.ai')
    for _, variable in view.path_variables:
        lines.append(f'{_python_name(variable)} = os.environ["{variable}"]')
    lines.append("headers = {")
    if view.authenticated:
        lines.append('    "Authorization": f"Bearer {os.environ[\'APOLLOSPACE_TOKEN\']}",')
    if view.organization:
        lines.append('    "X-Organization-Id": os.environ["APOLLOSPACE_ORG"],')
    if view.idempotent:
        lines.append('    "Idempotency-Key": str(uuid.uuid4()),  # a fresh key per operation')
    lines.append("}")
    path = view.url_path_with(lambda variable: "{" + _python_name(variable) + "}")
    url = f'f"{{API}}{path}"'
    params = ", ".join(f'"{k}": {_python_param(v)}' for k, v in view.query)
    if view.paginated:
        lines += [
            f"params = {{{params}}}",
            "while True:  # every page in turn, until next_cursor is null",
            f"    response = httpx.get({url}, headers=headers, params=params)",
            "    response.raise_for_status()",
            "    page = response.json()",
            '    for item in page["items"]:',
            "        print(json.dumps(item, ensure_ascii=False))",
            '    if page["next_cursor"] is None:',
            "        break",
            '    params["cursor"] = page["next_cursor"]',
        ]
        return "\n".join(lines)
    arguments = [url, "headers=headers"]
    if view.query:
        arguments.append(f"params={{{params}}}")
    if view.body is not None:
        lines.append(f"body = {_python_literal(json.loads(view.body))}")
        arguments.append("json=body")
    lines.append(f'response = httpx.request("{view.method}", {", ".join(arguments)})')
    lines.append("response.raise_for_status()  # an error answers with the error envelope")
    if view.success_status == "204":
        lines.append("print(response.status_code)  # 204: no body")
    else:
        lines.append("print(json.dumps(response.json(), indent=2, ensure_ascii=False))")
    return "\n".join(lines)


def _python_param(value: str) -> str:
    return value if value.isdigit() else json.dumps(value)


# --- JavaScript -------------------------------------------------------------------------


def _camel(variable: str) -> str:
    head, *rest = variable.lower().split("_")
    return head + "".join(word.capitalize() for word in rest)


def render_javascript(view: RequestView) -> str:
    """An ES module with fetch (Node 18+ or a browser); prints what the Python one prints."""
    lines = [f"const API = process.env.{API_VARIABLE}; // https://api.apollospace.ai"]
    for _, variable in view.path_variables:
        lines.append(f"const {_camel(variable)} = process.env.{variable};")
    lines.append("const headers = {")
    if view.authenticated:
        lines.append("  Authorization: `Bearer ${process.env.APOLLOSPACE_TOKEN}`,")
    if view.organization:
        lines.append('  "X-Organization-Id": process.env.APOLLOSPACE_ORG,')
    if view.idempotent:
        lines.append('  "Idempotency-Key": crypto.randomUUID(), // a fresh key per operation')
    if view.body is not None:
        lines.append('  "Content-Type": "application/json",')
    lines.append("};")
    path = view.url_path_with(lambda variable: "${" + _camel(variable) + "}")
    url = f"`${{API}}{path}`"
    query = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in view.query)
    if view.paginated:
        lines += [
            f"const params = new URLSearchParams({{ {query} }});",
            "for (;;) { // every page in turn, until next_cursor is null",
            f"  const response = await fetch(`${{API}}{path}?${{params}}`, {{ headers }});",
            "  if (!response.ok) throw new Error(`${response.status}: ${await response.text()}`);",
            "  const page = await response.json();",
            "  for (const item of page.items) console.log(JSON.stringify(item));",
            "  if (page.next_cursor === null) break;",
            '  params.set("cursor", page.next_cursor);',
            "}",
        ]
        return "\n".join(lines)
    if view.query:
        url = f"`${{API}}{path}?${{new URLSearchParams({{ {query} }})}}`"
    options = [f'method: "{view.method}"', "headers"]
    if view.body is not None:
        body = _PLACEHOLDER.sub(lambda m: f"process.env.{m['name']}", view.body)
        lines.append(f"const body = {body};")
        options.append("body: JSON.stringify(body)")
    lines.append(f"const response = await fetch({url}, {{ {', '.join(options)} }});")
    lines.append(
        "if (!response.ok) throw new Error(`${response.status}: ${await response.text()}`);"
    )
    if view.success_status == "204":
        lines.append("console.log(response.status); // 204: no body")
    else:
        lines.append("console.log(JSON.stringify(await response.json(), null, 2));")
    return "\n".join(lines)


__all__ = [
    "CURL_KEY",
    "STANDARD_VARIABLES",
    "RequestView",
    "build_request",
    "render_curl",
    "render_javascript",
    "render_python",
]
