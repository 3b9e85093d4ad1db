"""The conventions every operation shares: tokens, rate limits, request ids, routing, persistence."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import replace
from pathlib import Path

import httpx
import jwt

from apollospace_refserver import Settings
from apollospace_refserver.auth import SigningKeys
from tests.refserver.conftest import FAST, ORGANIZATIONS, USERS, LiveServer, start_server

ACME = ORGANIZATIONS[0].id


def _get(live: LiveServer, path: str, **headers: str) -> httpx.Response:
    return httpx.get(f"{live.base_url}{path}", headers=headers, timeout=10)


def test_expired_token_is_401_token_expired(live: LiveServer) -> None:
    """An expired token is refused with 401 token_expired and the envelope."""
    response = _get(live, "/leads", Authorization=f"Bearer {live.token(expired=True)}", **{"X-Organization-Id": ACME})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"


def test_forged_tokens_are_401(live: LiveServer) -> None:
    """A token signed with another key, an `alg: none` token and garbage are all 401 unauthenticated."""
    claims = jwt.decode(live.token(), options={"verify_signature": False})
    other_key = jwt.encode(claims, SigningKeys.generate().private_pem, algorithm="RS256")
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    for token in (other_key, f"{header}.{payload}.", "garbage"):
        response = _get(live, "/leads", Authorization=f"Bearer {token}", **{"X-Organization-Id": ACME})
        assert response.status_code == 401, token[:20]
        assert response.json()["error"]["code"] == "unauthenticated"


def test_a_token_accepted_before_is_refused_once_it_expires(live: LiveServer) -> None:
    """The server remembers verified tokens, but a token it accepted is 401 token_expired from its `exp` on."""
    user_id = jwt.decode(live.token(), options={"verify_signature": False})["sub"]
    token = live.services.tokens.mint(user_id, ttl_seconds=2)
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    first = _get(live, "/leads", Authorization=f"Bearer {token}", **{"X-Organization-Id": ACME})
    assert first.status_code == 200, first.text
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    again = _get(live, "/leads", Authorization=f"Bearer {token}", **{"X-Organization-Id": ACME})
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "token_expired"


def test_tokens_for_another_audience_or_issuer_are_401(live: LiveServer) -> None:
    """Correctly signed tokens meant for another service, from another issuer, or lacking a required claim are 401 unauthenticated."""
    claims = jwt.decode(live.token(), options={"verify_signature": False})
    private_pem = live.services.tokens.keys.private_pem
    variants = {
        "another audience": {**claims, "aud": "https://billing.apollospace.ai"},
        "another issuer": {**claims, "iss": "https://login.example.com"},
        "no audience": {k: v for k, v in claims.items() if k != "aud"},
        "no subject": {k: v for k, v in claims.items() if k != "sub"},
    }
    for why, variant in variants.items():
        token = jwt.encode(variant, private_pem, algorithm="RS256")
        response = _get(live, "/leads", Authorization=f"Bearer {token}", **{"X-Organization-Id": ACME})
        assert response.status_code == 401, why
        assert response.json()["error"]["code"] == "unauthenticated", why

def test_rate_limit_answers_429_with_retry_after() -> None:
    """Past the limit of an operation type an organization gets 429 with Retry-After; another organization does not."""
    server = start_server(replace(FAST, rate_limits={"read": 5, "write": 100, "billable": 10}, rate_window_seconds=60.0))
    try:
        with server.client() as acme, server.client("bruno", "globex") as globex:
            statuses = [acme.get("/agents").status_code for _ in range(6)]
            refused = acme.get("/agents")
            assert statuses[:5] == [200] * 5 and 429 in statuses[5:] + [refused.status_code]
            assert refused.status_code == 429
            assert int(refused.headers["Retry-After"]) >= 1
            assert refused.json()["error"]["code"] == "rate_limited"
            assert globex.get("/agents").status_code == 200
            assert acme.post("/leads", json={"contact_name": "Ana"}).status_code == 400  # writes count apart
    finally:
        server.stop()


def test_every_response_has_a_unique_request_id(live: LiveServer) -> None:
    """Successes and errors carry X-Request-Id; on errors it equals error.request_id; no two are equal."""
    with live.client() as client:
        responses = [client.get("/leads"), client.get("/leads/not-a-uuid"), client.get("/leads/not-a-uuid")]
    ids = [r.headers["X-Request-Id"] for r in responses]
    assert len(set(ids)) == 3
    assert responses[1].json()["error"]["request_id"] == ids[1]


def test_unknown_routes_and_methods_get_the_envelope(live: LiveServer) -> None:
    """An unknown path is 404 and a wrong method 405 with Allow, both with the envelope; a newline in a path is a 400."""
    with live.client() as client:
        missing = client.get("/no-such-thing")
        wrong = client.request("PUT", "/leads")
        newline = client.get("/leads/%0A")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "route_not_found"
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "GET, POST"
    assert newline.status_code == 400 and newline.json()["error"]["code"] == "validation_failed"


def test_data_survives_a_restart(tmp_path: Path) -> None:
    """A lead created before a restart is there after it, and the old token still works (same key)."""
    settings = replace(FAST, database=str(tmp_path / "db.sqlite3"), data_dir=tmp_path)
    first = start_server(settings)
    token = first.token()
    with first.client() as client:
        pipeline = client.get("/pipelines").json()["items"][0]["id"]
        lead = client.post("/leads", json={"contact_name": "Rahul Iyer", "pipeline_id": pipeline}).json()
    first.stop()
    first.services.db.close()
    second = start_server(settings)
    try:
        response = httpx.get(f"{second.base_url}/leads/{lead['id']}", headers={"Authorization": f"Bearer {token}", "X-Organization-Id": ACME}, timeout=10)
        assert response.status_code == 200
        assert response.json() == lead
    finally:
        second.stop()


def test_seed_users_belong_to_their_organizations() -> None:
    """The seed has two organizations with different members."""
    assert {u.key for u in USERS} >= {"olivia", "bruno"}
    assert set(ORGANIZATIONS[0].members) != set(ORGANIZATIONS[1].members)
    assert isinstance(Settings().rate_limits, dict)
