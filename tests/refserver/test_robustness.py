"""No input makes the reference server answer 5xx, answer without the envelope, or hang.

Requirement: /req/responses/no-server-errors, /req/errors/envelope, /req/responses/timely.
Property-based: arbitrary bytes, arbitrary JSON (any Unicode, lone surrogates
as `\\ud800` escapes, any depth, any size up to the body limit) and arbitrary
headers, sent over real HTTP on loopback (one keep-alive connection) to every
operation the spec has. Seeded and derandomized: the same cases every run.
Bound: 2,250 cases in total, well under 60 s on a loaded 2-core machine.
"""

from __future__ import annotations

import contextlib
import copy
import json
import socket
import string
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apollospace_refserver.contract import Limits
from apollospace_spec import bundled_spec, iter_operations
from apollospace_spec.model import resolve
from tests.refserver.conftest import FAST, ORGANIZATIONS, LiveServer, start_server
from tests.refserver.helpers import valid

DOCUMENT = bundled_spec()
LIMITS = Limits.from_document(DOCUMENT)
OPERATIONS = sorted(((op.method.upper(), op.path, op) for op in iter_operations(DOCUMENT)), key=lambda item: item[:2])
BODY_OPERATIONS = [item for item in OPERATIONS if item[2].definition.get("requestBody")]
ACME = ORGANIZATIONS[0].id
TIMEOUT = 10.0  # seconds per request: a hang fails the case instead of the suite


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,  # the same cases every run
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example, HealthCheck.filter_too_much],
    )


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    """A server whose rate limits never get in the way, so every case reaches validation."""
    live = start_server(replace(FAST, rate_limits={"read": 10**6, "write": 10**6, "billable": 10**6}))
    yield live
    live.stop()


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    """One keep-alive connection for every case."""
    with httpx.Client(base_url=server.base_url.removesuffix("/v1"), timeout=TIMEOUT) as http:
        yield http


@pytest.fixture(scope="module")
def auth(server: LiveServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token()}", "X-Organization-Id": ACME}


# --- strategies -----------------------------------------------------------------------------

# Any code point, surrogates included: json.dumps writes a lone one as a \udXXX escape.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
path_ids = st.one_of(st.uuids(version=4).map(str), any_text.map(lambda t: quote(t.encode("utf-8", "surrogatepass"), safe="")))


def _nest(value: Any, depth: int) -> Any:
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | any_text,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(any_text, children, max_size=5),
    max_leaves=30,
)
deep_json = st.builds(_nest, json_values, st.integers(0, 1200))
# A body near the size limit: one long string, within LIMITS.body_bytes once serialized.
large_json = st.integers(0, LIMITS.body_bytes - 64).map(lambda n: {"filler": "x" * n})
json_bodies = st.one_of(json_values, json_values, deep_json, large_json).map(lambda v: json.dumps(v).encode())


def _example(op: Any) -> Any:
    """The spec's example request body of `op` (every body operation has one), or None."""
    body = op.definition.get("requestBody")
    if not body:
        return None
    media = resolve(DOCUMENT, body)["content"]["application/json"]
    examples = resolve(DOCUMENT, media.get("schema", {})).get("examples") or []
    return examples[0] if examples else None


def _places(value: Any, where: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield where
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _places(child, (*where, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _places(child, (*where, index))


@st.composite
def mutated_example(draw: st.DrawFn, example: Any) -> bytes:
    """The spec's valid example with one place replaced by any JSON or text (lone surrogates too):
    bodies that get past validation to the handlers and the database."""
    body = copy.deepcopy(example)
    where = draw(st.sampled_from(list(_places(body))))
    replacement = draw(st.one_of(any_text, any_text.map(lambda t: t + "\ud800"), json_values))
    if not where:
        return json.dumps(replacement).encode()
    parent = body
    for part in where[:-1]:
        parent = parent[part]
    parent[where[-1]] = replacement
    return json.dumps(body).encode()


def json_bodies_for(op: Any) -> st.SearchStrategy[bytes]:
    example = _example(op)
    return json_bodies if example is None else st.one_of(json_bodies, mutated_example(example), mutated_example(example), mutated_example(example))
byte_bodies = st.binary(max_size=4096)
# Header names are tokens and values visible Latin-1 (what an HTTP client can send at all).
header_names = st.text(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~", min_size=1, max_size=30)
header_values = st.binary(max_size=200).map(lambda raw: bytes(b if (0x20 <= b < 0x7F or b >= 0x80) else 0x20 for b in raw).strip())
extra_headers = st.dictionaries(header_names, header_values, max_size=6)
content_types = st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", "", "application/x-www-form-urlencoded"])


@st.composite
def requests(
    draw: st.DrawFn, bodies: Callable[[Any], st.SearchStrategy[bytes]], with_body: bool = False
) -> tuple[str, str, dict[str, Any], bytes]:
    """A method, a URL of one spec operation (path ids and query arbitrary), headers and a body."""
    method, template, op = draw(st.sampled_from(BODY_OPERATIONS if with_body and draw(st.booleans()) else OPERATIONS))
    path = template
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + draw(path_ids) + path[end + 1 :]
    names = [p["name"] for p in op.parameters(DOCUMENT) if p["in"] == "query"] + ["bogus"]
    query = draw(st.lists(st.tuples(st.sampled_from(names), any_text), max_size=3))
    if query:
        path += "?" + "&".join(f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in query)
    headers: dict[str, Any] = {"Content-Type": "application/json" if with_body and draw(st.booleans()) else draw(content_types)}
    headers.update(draw(extra_headers))
    return method, "/v1" + path, headers, draw(bodies(op))


# --- the property ---------------------------------------------------------------------------

_TRANSPORT = {"host", "content-length", "transfer-encoding", "connection", "expect", "upgrade", "te", "trailer"}


def _send(client: httpx.Client, auth: dict[str, str], method: str, url: str, headers: dict[str, Any], body: bytes) -> None:
    sent = {**auth, **{k: v for k, v in headers.items() if k.lower() not in _TRANSPORT}}
    response = client.request(method, url, headers=sent, content=body)
    assert response.status_code < 500, f"{method} {url} -> {response.status_code}: {response.text[:300]}"
    if response.status_code >= 400:
        assert response.headers.get("content-type", "").startswith("application/json"), response.headers
        error = valid("Error", response.json())
        assert error["error"]["request_id"] == response.headers.get("x-request-id")


@given(request=requests(json_bodies_for, with_body=True))
@_settings(1000)
def test_arbitrary_json_at_every_operation_is_never_a_5xx(client: httpx.Client, auth: dict[str, str], request: Any) -> None:
    """Any JSON (any Unicode, lone surrogates, any depth, up to the size limit) at any operation: never 5xx, always the envelope, never a hang."""
    _send(client, auth, *request)


@given(request=requests(lambda op: byte_bodies, with_body=True))
@_settings(750)
def test_arbitrary_bytes_at_every_operation_is_never_a_5xx(client: httpx.Client, auth: dict[str, str], request: Any) -> None:
    """Any bytes as the body, with any content type, at any operation: never 5xx, always the envelope, never a hang."""
    _send(client, auth, *request)


@given(request=requests(lambda op: st.just(b"")), override=extra_headers)
@_settings(500)
def test_arbitrary_headers_and_tokens_are_never_a_5xx(client: httpx.Client, auth: dict[str, str], request: Any, override: dict[str, bytes]) -> None:
    """Arbitrary values for every header, Authorization, X-Organization-Id and Idempotency-Key included: never 5xx, always the envelope."""
    method, url, headers, body = request
    names = ["Authorization", "X-Organization-Id", "Idempotency-Key"]
    mixed = {names[i % 3]: value for i, value in enumerate(override.values())} or headers
    _send(client, auth, method, url, {**headers, **mixed}, body)


def test_every_operation_is_covered() -> None:
    """The property tests draw from every operation of the spec, not a hand-made list."""
    assert len(OPERATIONS) == len({op.operation_id for _, _, op in OPERATIONS}) >= 30


# --- the documented limits and edge answers, one by one -------------------------------------


def _raw(server: LiveServer, data: bytes, *, read_timeout: float = TIMEOUT) -> bytes:
    """Send `data` on a fresh connection and read the answer until the server closes it."""
    port = int(server.base_url.rsplit(":", 1)[1].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def _envelope(answer: bytes, status: int) -> tuple[dict[str, str], dict[str, Any]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith(f"HTTP/1.1 {status} "), lines[0]
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    assert headers["content-type"].startswith("application/json")
    error = valid("Error", json.loads(body))
    assert error["error"]["request_id"] == headers["x-request-id"]
    return headers, error


def _post(client: httpx.Client, auth: dict[str, str], path: str, body: bytes) -> httpx.Response:
    return client.post(f"/v1{path}", content=body, headers={**auth, "Content-Type": "application/json"})


def test_json_deeper_than_the_limit_is_400_naming_it(client: httpx.Client, auth: dict[str, str]) -> None:
    """JSON nested past the documented depth (64) is 400 validation_failed naming the limit, up to 100,000 levels; 64 levels is not refused for depth."""
    limit = LIMITS.json_depth
    for depth in (limit + 1, 1000, 100_000):
        response = _post(client, auth, "/pipelines", b"[" * depth + b"]" * depth)
        error = valid("Error", response.json())["error"]
        assert (response.status_code, error["code"]) == (400, "validation_failed"), depth
        assert f"{limit} levels" in error["message"]
    at_limit = _post(client, auth, "/pipelines", b"[" * limit + b"]" * limit)
    assert at_limit.status_code == 400 and "levels" not in at_limit.json()["error"]["message"]


@pytest.mark.parametrize(
    ("path", "body", "pointer"),
    [
        ("/pipelines", {"name": "Renewals\ud800"}, "/name"),
        ("/leads", {"contact_name": "Ana \udfff Souza"}, "/contact_name"),
        ("/lead-imports", {"pipeline_id": ACME, "rows": [{"contact_name": "a\ud800b"}]}, "/rows/0/contact_name"),
        ("/agents/" + ACME + "/runs", {"input": {"note": "\udc00"}}, "/input/note"),
        # In a member name the pointer names the holding object: one carrying the surrogate could not be written back.
        ("/agents/" + ACME + "/runs", {"input": {"n\ud800te": "x"}}, "/input"),
    ],
)
def test_a_lone_surrogate_is_400_at_the_edge(client: httpx.Client, auth: dict[str, str], path: str, body: Any, pointer: str) -> None:
    """A string holding a lone UTF-16 surrogate (sent as a \\udXXX escape) is 400 validation_failed pointing at it, before any handler."""
    response = _post(client, auth, path, json.dumps(body).encode())
    error = valid("Error", response.json())["error"]
    assert (response.status_code, error["code"]) == (400, "validation_failed"), response.text
    assert error["details"][0]["in"] == "body" and error["details"][0]["pointer"] == pointer
    assert error["details"][0]["reason"].startswith("lone UTF-16 surrogate")


@pytest.mark.parametrize("body", [b'{"name": NaN}', b'{"name": Infinity}', b'{"name": 1e400}', b"\xff\xfe{}", b'{"name": "\xed\xa0\x80"}'])
def test_json_that_is_not_rfc_8259_is_400_malformed_json(client: httpx.Client, auth: dict[str, str], body: bytes) -> None:
    """NaN, Infinity, numbers beyond double range and bytes that are not UTF-8 (raw surrogates included) are 400 malformed_json."""
    response = _post(client, auth, "/pipelines", body)
    assert (response.status_code, valid("Error", response.json())["error"]["code"]) == (400, "malformed_json")


def test_validation_errors_point_at_the_field(client: httpx.Client, auth: dict[str, str]) -> None:
    """validation_failed carries error.details with RFC 6901 pointers: /rows/3/email in an import, a missing member by name, /limit for a parameter."""
    rows = [{"contact_name": f"Lead {i}", "email": f"lead{i}@example.com"} for i in range(5)]
    rows[3]["email"] = "not an email"
    response = _post(client, auth, "/lead-imports", json.dumps({"pipeline_id": ACME, "rows": rows}).encode())
    assert valid("Error", response.json())["error"]["details"][0]["pointer"] == "/rows/3/email", response.text
    missing = _post(client, auth, "/leads", b"{}")
    assert valid("Error", missing.json())["error"]["details"][0] == {"in": "body", "pointer": "/contact_name", "reason": "'contact_name' is a required property"}
    limit = client.get("/v1/leads", params={"limit": "many"}, headers=auth)
    detail = valid("Error", limit.json())["error"]["details"][0]
    assert (detail["in"], detail["pointer"]) == ("query", "/limit")


def test_unknown_methods_get_the_envelope(server: LiveServer) -> None:
    """A method the HTTP parser does not know is 405 with Allow on a known path, 404 elsewhere; bytes that are not HTTP are 400; all with the envelope."""
    headers, error = _envelope(_raw(server, b"FOO /v1/leads HTTP/1.1\r\nHost: x\r\n\r\n"), 405)
    assert headers["allow"] == "GET, POST" and error["error"]["code"] == "method_not_allowed"
    assert _envelope(_raw(server, b"BREW /v1/coffee HTTP/1.1\r\nHost: x\r\n\r\n"), 404)[1]["error"]["code"] == "route_not_found"
    for garbage in (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", b"GET /v1/l\xffads HTTP/1.1\r\nHost: x\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n"):
        assert _envelope(_raw(server, garbage), 400)[1]["error"]["code"] == "malformed_request", garbage


def test_a_declared_body_over_the_limit_is_413_before_it_is_sent(server: LiveServer) -> None:
    """Content-Length over the documented body limit (1 MiB) is 413 with the envelope at once: the client has sent none of the 100 MB."""
    answer = _raw(server, b"POST /v1/leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n")
    assert _envelope(answer, 413)[1]["error"]["code"] == "payload_too_large"


def test_a_streamed_body_over_the_limit_is_413(server: LiveServer) -> None:
    """A chunked body is counted as it streams: past the limit it is 413 with the envelope, without waiting for its end."""
    chunk = b"x" * 65536
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(LIMITS.body_bytes // len(chunk) + 1))  # no last chunk
    head = b"POST /v1/leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert _envelope(_raw(server, head + body), 413)[1]["error"]["code"] == "payload_too_large"


def test_a_body_at_the_limit_is_read(client: httpx.Client, auth: dict[str, str]) -> None:
    """A body of exactly the limit is read and validated (400 validation_failed for this one), not refused as too large."""
    body = json.dumps({"name": "x" * (LIMITS.body_bytes - 12)}).encode()
    assert len(body) == LIMITS.body_bytes
    response = _post(client, auth, "/pipelines", body)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "validation_failed")


def test_headers_over_the_limit_are_431_before_they_are_all_sent(server: LiveServer) -> None:
    """A request head past the documented limit (16 KiB) is 431 with the envelope, answered while the client is still sending a 32 MB header."""
    port = int(server.base_url.rsplit(":", 1)[1].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(b"GET /v1/leads HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = 0
        sock.setblocking(False)
        answer = b""
        deadline = time.monotonic() + TIMEOUT
        while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < 20:
            assert time.monotonic() < deadline, "no answer"
            with contextlib.suppress(BlockingIOError):
                answer += sock.recv(65536)
            if sent < 32 * 1024 * 1024:
                with contextlib.suppress(BlockingIOError, BrokenPipeError, ConnectionResetError):
                    sent += sock.send(b"a" * 65536)
            time.sleep(0.001)
        sock.setblocking(True)
        sock.settimeout(TIMEOUT)
        while chunk := sock.recv(65536):
            answer += chunk
    assert sent < 32 * 1024 * 1024, "the server read the whole header before answering"
    assert _envelope(answer, 431)[1]["error"]["code"] == "request_headers_too_large"
    below = _raw(server, b"GET /v1/leads HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: " + b"a" * (LIMITS.head_bytes - 200) + b"\r\n\r\n")
    assert _envelope(below, 401)[1]["error"]["code"] == "unauthenticated"


def test_a_body_sent_with_upgrade_is_refused_at_once_not_lost(server: LiveServer) -> None:
    """A request with a body and an Upgrade header (no upgrade is supported, and the parser would withhold the body) is 400 with the envelope at once."""
    request = b'POST /v1/pipelines HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"name":"x"}'
    started = time.monotonic()
    assert _envelope(_raw(server, request), 400)[1]["error"]["code"] == "malformed_request"
    assert time.monotonic() - started < 2.5  # the answer, then at most the 2 s linger; not the 5 s keep-alive wait


def test_a_query_that_is_not_utf8_is_400(client: httpx.Client, auth: dict[str, str]) -> None:
    """A percent-encoded query value that is not UTF-8 is 400 validation_failed pointing at its parameter, not read as U+FFFD."""
    response = client.get("/v1/leads?q=%ff%fe", headers=auth)
    error = valid("Error", response.json())["error"]
    assert (response.status_code, error["code"]) == (400, "validation_failed")
    assert error["details"] == [{"in": "query", "pointer": "/q", "reason": "not UTF-8"}]
    assert client.get("/v1/leads?q=%C3%A9", headers=auth).status_code == 200
