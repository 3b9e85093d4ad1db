"""Every page's examples are true: cURL runs, JSON validates, webhook snippets verify."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from apollospace_docs.view_model import DocsSite
from apollospace_refserver.seed import user_by_key
from apollospace_spec import bundled_spec
from apollospace_spec.model import resolve
from apollospace_spec.validation import SchemaValidator, describe
from tests.docs import pages
from tests.refserver.conftest import FAST, ORGANIZATIONS, LiveServer, start_server

OPERATIONS = pages.spec_operations()
ENDPOINTS = sorted(op_id for op_id, op in OPERATIONS.items() if not op.is_event)
EVENTS = sorted(op_id for op_id, op in OPERATIONS.items() if op.is_event)
ACME = next(org for org in ORGANIZATIONS if org.key == "acme")
STANDARD = {"APOLLOSPACE_API", "APOLLOSPACE_TOKEN", "APOLLOSPACE_ORG"}
# Runs must still be live when `cancelRun`'s example runs: slow steps, fast everything else.
DOCS_SERVER = replace(FAST, run_step_seconds=2.0)
# A subscription target on loopback (allowed by the reference server) where nothing listens.
HOOK_URL = "http://127.0.0.1:9/apollo-space"


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    server = start_server(replace(DOCS_SERVER))
    yield server
    server.stop()


def _pages(files: dict[str, str]) -> dict[str, str]:
    return {op: files[names[0]] for op, names in pages.pages_by_operation(files).items()}


@pytest.fixture(scope="module")
def mdx_by_operation(files: dict[str, str]) -> dict[str, str]:
    return _pages(files)


@pytest.fixture(scope="module")
def validator() -> SchemaValidator:
    return SchemaValidator(bundled_spec())


# --- the resources a page's variables name ------------------------------------------------


class Resources:
    """Creates through the API what an example's variables point at; fresh for each page."""

    def __init__(self, client: httpx.Client, owner_id: str) -> None:
        self.client = client
        self.owner_id = owner_id
        self.values: dict[str, str] = {}

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(path, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
        assert response.status_code == 201, (
            f"setting up {path}: {response.status_code} {response.text}"
        )
        return dict(response.json())

    def pipeline(self) -> dict[str, Any]:
        if "_pipeline" not in self.values:
            created = self._post("/pipelines", {"name": f"Docs example {uuid.uuid4().hex[:8]}"})
            self.values["_pipeline"] = json.dumps(created)
        return dict(json.loads(self.values["_pipeline"]))

    def agents(self) -> list[dict[str, Any]]:
        response = self.client.get("/agents")
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    def recipes(self) -> dict[str, Callable[[int], str]]:
        """How to get the n-th (1-based) value of each variable family."""
        return {
            "PIPELINE_ID": lambda n: str(self.pipeline()["id"]),
            "STAGE_ID": lambda n: str(list(reversed(self.pipeline()["stages"]))[n - 1]["id"]),
            "LEAD_ID": lambda n: str(
                self._post(
                    "/leads",
                    {"contact_name": "Rafael Menezes", "pipeline_id": self.pipeline()["id"]},
                )["id"]
            ),
            "IMPORT_ID": lambda n: str(
                self._post(
                    "/lead-imports",
                    {
                        "pipeline_id": self.pipeline()["id"],
                        "dry_run": True,
                        "rows": [{"contact_name": "Rafael Menezes"}],
                    },
                )["id"]
            ),
            "AGENT_ID": lambda n: str(self.agents()[n - 1]["id"]),
            "RUN_ID": lambda n: str(
                self._post(
                    f"/agents/{self.agents()[0]['id']}/runs",
                    {"input": {"prompt": "Research Porto Verde Alimentos."}},
                )["id"]
            ),
            "WEBHOOK_ID": lambda n: str(
                self._post("/webhooks", {"url": HOOK_URL, "events": ["lead.created"]})["id"]
            ),
            "OWNER_ID": lambda n: self.owner_id,
            "USER_ID": lambda n: self.owner_id,
        }

    def value(self, name: str) -> str:
        """The value of `$name`; `STAGE_ID_3` is the third of the family `STAGE_ID`."""
        if name not in self.values:
            recipes = self.recipes()
            family, _, number = name.rpartition("_")
            if name in recipes:
                self.values[name] = recipes[name](1)
            elif number.isdigit() and family in recipes:
                self.values[name] = recipes[family](int(number))
            else:
                pytest.fail(
                    f"no recipe for ${name}: teach tests/docs/test_examples.py how to create one"
                )
        return self.values[name]


LANGUAGES = ("bash", "python", "javascript")
# What a reader's machine has: the example's interpreter on PATH, the variables exported.
_COMMANDS = {
    "bash": ["bash", "-c"],
    "python": [],
    "javascript": ["node", "--input-type=module", "-e"],
}


def _run(language: str, script: str, env: dict[str, str], python: str) -> tuple[int, str, str]:
    """Run one example as a reader would paste it: bash, python (with httpx) or node."""
    command = [python, "-c"] if language == "python" else _COMMANDS[language]
    result = subprocess.run(
        [*command, script], env=env, capture_output=True, text=True, timeout=90, check=False
    )
    return result.returncode, result.stdout, result.stderr


def _destroys(op_id: str) -> bool:
    """An example after which its path ids no longer name a usable resource."""
    op = OPERATIONS[op_id]
    return op.method == "delete" or op.is_action


def _check_output(op_id: str, language: str, stdout: str, validator: SchemaValidator) -> list[str]:
    """The printed body matches the documented success schema (a list: every item line)."""
    op = OPERATIONS[op_id]
    status = next(s for s in op.responses if str(s).startswith("2"))
    response = resolve(bundled_spec(), op.responses[status])
    media = (response.get("content") or {}).get("application/json")
    if media is None:
        return [] if stdout.strip() in ("", "204") else [f"unexpected output {stdout[:200]!r}"]
    schema = media["schema"]
    if op.is_list:
        lines = [line for line in stdout.splitlines() if line.strip()]
        if language == "bash":  # cURL prints whole pages
            values = [json.loads(line) for line in lines]
        else:  # Python and JavaScript print items: rebuild one page to validate
            values = [{"items": [json.loads(line) for line in lines], "next_cursor": None}]
    else:
        values = [json.loads(stdout)]
    return [f"{describe(e)}" for value in values for e in validator.errors(schema, value)]


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("curl") is None or shutil.which("node") is None,
    reason="the examples need curl and node",
)
def test_every_example_runs_in_page_order_on_one_server(
    site: DocsSite,
    files: dict[str, str],
    live: LiveServer,
    validator: SchemaValidator,
) -> None:
    """cURL, then Python, then JavaScript of every page, in navigation order, on one server.

    The variables stay set from page to page, as a reader's shell keeps them; an id is
    created (through the API) the first time a page needs it, and made afresh after an
    example that deletes or acts on it (the next language then has one to act on).
    """
    import sys

    failures: list[str] = []
    ran = 0
    with live.client() as client:
        resources = Resources(client, user_by_key("olivia").id)
        env = {
            "PATH": "/usr/bin:/bin:/usr/local/bin",
            "APOLLOSPACE_API": live.base_url.removesuffix("/v1"),
            "APOLLOSPACE_TOKEN": live.token("olivia"),
            "APOLLOSPACE_ORG": ACME.id,
        }
        for page in site.pages:
            if getattr(page, "kind", "") != "endpoint":
                continue
            op_id = page.operation_id
            mdx = files[f"mintlify/{page.ref.slug}.mdx"]
            examples = pages.request_examples(mdx)
            assert set(examples) == set(LANGUAGES), f"{op_id}: languages {sorted(examples)}"
            for language in LANGUAGES:
                script = examples[language]
                used = (
                    {m["name"] for m in pages.VARIABLE.finditer(script)}
                    | set(re.findall(r"process\.env\.([A-Z][A-Z0-9_]*)", script))
                    | set(re.findall(r"os\.environ\[\"([A-Z][A-Z0-9_]*)\"\]", script))
                )
                used -= STANDARD | {"APOLLOSPACE_API"}
                used = {name for name in used if name.isupper() and name not in {"EOF"}}
                undocumented = [name for name in used if f"`${name}`" not in mdx]
                if undocumented:
                    failures.append(f"{op_id} {language}: undocumented variables {undocumented}")
                for name in sorted(used):
                    env[name] = resources.value(name)
                code, stdout, stderr = _run(language, script, env, sys.executable)
                ran += 1
                if code != 0:
                    failures.append(f"{op_id} {language}: exit {code}: {stderr[-400:]}")
                else:
                    problems = _check_output(op_id, language, stdout, validator)
                    if problems:
                        failures.append(f"{op_id} {language}: {problems[:3]}")
                if _destroys(op_id):
                    for name in used:
                        resources.values.pop(name, None)
                        env.pop(name, None)
                    if "PIPELINE_ID" in used:
                        resources.values.pop("_pipeline", None)
                        for name in [n for n in resources.values if n.startswith("STAGE_ID")]:
                            resources.values.pop(name)
    assert ran == 3 * len(ENDPOINTS)
    assert failures == [], "\n".join(failures)


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("curl") is None or shutil.which("node") is None,
    reason="the examples need curl and node",
)
def test_list_examples_follow_next_cursor_to_the_end(
    files: dict[str, str], live: LiveServer
) -> None:
    """With a page size of 2, listPipelines' three examples walk every page: each prints
    every pipeline of the organization once (cURL prints pages, the others items)."""
    import sys

    mdx = next(text for name, text in files.items() if name.endswith("/list-pipelines.mdx"))
    with live.client() as client:
        resources = Resources(client, user_by_key("olivia").id)
        for _ in range(5):
            resources._post("/pipelines", {"name": f"Walk {uuid.uuid4().hex[:8]}"})
        expected, params = [], {"limit": 100}
        while True:
            page = client.get("/pipelines", params=params).json()
            expected += [item["id"] for item in page["items"]]
            if page["next_cursor"] is None:
                break
            params["cursor"] = page["next_cursor"]
    assert len(expected) > 4
    env = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "APOLLOSPACE_API": live.base_url.removesuffix("/v1"),
        "APOLLOSPACE_TOKEN": live.token("olivia"),
        "APOLLOSPACE_ORG": ACME.id,
    }
    for language, script in pages.request_examples(mdx).items():
        small = re.sub(r"(limit\W+)50", r"\g<1>2", script)
        assert small != script, f"{language}: no limit of 50 to shrink"
        code, stdout, stderr = _run(language, small, env, sys.executable)
        assert code == 0, f"{language}: {stderr[-400:]}"
        lines = [json.loads(line) for line in stdout.splitlines() if line.strip()]
        if language == "bash":
            assert len(lines) == -(-len(expected) // 2), "one printed page per request"
            seen = [item["id"] for page in lines for item in page["items"]]
        else:
            seen = [item["id"] for item in lines]
        assert seen == expected, language


# --- the examples shown on the pages ------------------------------------------------------


@pytest.mark.parametrize("operation_id", ENDPOINTS)
def test_response_examples_match_their_schemas(
    operation_id: str, mdx_by_operation: dict[str, str], validator: SchemaValidator
) -> None:
    """Every JSON response example validates against the schema of the status it is labelled."""
    examples = pages.json_examples(mdx_by_operation[operation_id])
    op = OPERATIONS[operation_id]
    documented = pages.documented_status(mdx_by_operation[operation_id])
    if str(documented) != "204":
        assert any(title.split()[0] == str(documented) for title, _ in examples), (
            "no example of the success status"
        )
    for title, value in examples:
        response = resolve(bundled_spec(), op.responses[title.split()[0]])
        schema = response["content"]["application/json"]["schema"]
        errors = [describe(e) for e in validator.errors(schema, value)]
        assert errors == [], f"{operation_id} example {title}: {errors}"


def test_every_documented_error_status_has_an_example(mdx_by_operation: dict[str, str]) -> None:
    """Each page shows one error body per error status it documents, naming one of its codes."""
    missing = []
    for operation_id in ENDPOINTS:
        op = OPERATIONS[operation_id]
        shown = {
            title.split()[0] for title, _ in pages.json_examples(mdx_by_operation[operation_id])
        }
        missing += [
            f"{operation_id} {status}"
            for status in op.responses
            if not str(status).startswith("2") and str(status) not in shown
        ]
    assert missing == []


@pytest.mark.parametrize("operation_id", ENDPOINTS)
def test_request_body_matches_its_schema(
    operation_id: str, mdx_by_operation: dict[str, str], validator: SchemaValidator
) -> None:
    """The body a cURL example sends is valid against the request schema (variables as ids)."""
    script = pages.curl_script(mdx_by_operation[operation_id])
    definition = OPERATIONS[operation_id].definition
    if "<<EOF" not in script:
        assert "requestBody" not in definition or not resolve(
            bundled_spec(), definition["requestBody"]
        ).get("required")
        return
    # Let bash expand the heredoc exactly as it would for curl, with every variable holding an id.
    env = {
        "PATH": "/usr/bin:/bin",
        **{m["name"]: str(uuid.uuid4()) for m in pages.VARIABLE.finditer(script)},
    }
    sent = subprocess.run(
        ["bash", "-c", "set -eu\ncurl() { cat; }\n" + script],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    schema = resolve(bundled_spec(), definition["requestBody"])["content"]["application/json"][
        "schema"
    ]
    errors = [describe(e) for e in validator.errors(schema, json.loads(sent))]
    assert errors == [], f"{operation_id}: {errors}"


# --- webhook event pages ------------------------------------------------------------------


def _delivery(mdx: str) -> tuple[dict[str, str], bytes]:
    (block,) = [b for b in pages.blocks(mdx, "RequestExample") if b.language == "http"]
    head, body = block.body.split("\n\n", 1)
    headers = dict(line.split(": ", 1) for line in head.splitlines()[1:])
    return headers, body.encode("utf-8")


@pytest.mark.parametrize("operation_id", EVENTS)
def test_event_example_delivery_is_signed_and_valid(
    operation_id: str, mdx_by_operation: dict[str, str], validator: SchemaValidator
) -> None:
    """The example delivery's payload matches its schema and its signature verifies."""
    mdx = mdx_by_operation[operation_id]
    headers, body = _delivery(mdx)
    payload = json.loads(body)
    schema = resolve(bundled_spec(), OPERATIONS[operation_id].definition["requestBody"])["content"][
        "application/json"
    ]["schema"]
    assert [describe(e) for e in validator.errors(schema, payload)] == []
    assert headers["webhook-id"] == payload["id"]
    secret = re.search(r"`(whsec_[A-Za-z0-9+/]{20,}={0,2})`", mdx)[1]
    stamp = datetime.fromtimestamp(int(headers["webhook-timestamp"]), tz=UTC)
    expected = Webhook(secret).sign(headers["webhook-id"], stamp, body.decode("utf-8"))
    assert headers["webhook-signature"] == expected


def _snippet(mdx: str, language: str) -> str:
    (block,) = [b for b in pages.blocks_anywhere(mdx) if b.language == language]
    return block.body


def _fresh_delivery(secret: str) -> tuple[dict[str, str], bytes]:
    body = json.dumps(
        {"id": str(uuid.uuid4()), "type": "lead.created", "data": {"name": "Mariana Souza"}}
    ).encode()
    msg_id = str(uuid.uuid4())
    now = datetime.now(tz=UTC)
    signature = Webhook(secret).sign(msg_id, now, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }, body


SECRET = "whsec_" + base64.b64encode(b"docs-test-secret-32-bytes-long!!").decode()


def test_python_verification_snippet_accepts_good_and_refuses_forged(
    mdx_by_operation: dict[str, str],
) -> None:
    """The Python snippet verifies a real Standard Webhooks delivery, refuses a tampered one."""
    namespace: dict[str, Any] = {}
    exec(_snippet(mdx_by_operation[EVENTS[0]], "python"), namespace)  # noqa: S102  the page's own code
    verify = namespace["verify"]
    headers, body = _fresh_delivery(SECRET)
    assert verify(SECRET, headers, body) is True
    assert verify(SECRET, headers, body + b" ") is False
    rotated = {**headers, "webhook-signature": "v1,AAAA " + headers["webhook-signature"]}
    assert verify(SECRET, rotated, body) is True
    stale = {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) - 3600)}
    assert verify(SECRET, stale, body) is False


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_node_verification_snippet_accepts_good_and_refuses_forged(
    mdx_by_operation: dict[str, str], tmp_path: Path
) -> None:
    """The Node snippet of an event page verifies a real delivery and refuses a tampered one."""
    (tmp_path / "verify.mjs").write_text(
        _snippet(mdx_by_operation[EVENTS[0]], "javascript"), "utf-8"
    )
    headers, body = _fresh_delivery(SECRET)
    cases = [
        (headers, body.decode(), True),
        (headers, body.decode() + " ", False),
        (
            {**headers, "webhook-signature": "v1,AAAA " + headers["webhook-signature"]},
            body.decode(),
            True,
        ),
    ]
    driver = (
        'import { verify } from "./verify.mjs";\n'
        f"const cases = {json.dumps(cases)};\n"
        f"const secret = {json.dumps(SECRET)};\n"
        "console.log(JSON.stringify(cases.map(([h, b]) => verify(secret, h, Buffer.from(b)))));\n"
    )
    (tmp_path / "driver.mjs").write_text(driver, "utf-8")
    result = subprocess.run(
        ["node", "driver.mjs"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(result.stdout) == [expected for _, _, expected in cases]
