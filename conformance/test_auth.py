"""Auth: a bearer token on every call; missing, forged, malformed and expired tokens refused.

Every operation comes from the spec; path ids are random version 4 UUIDs and
bodies the documented examples, so the only thing wrong with each request is
its token.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

import pytest

from apollospace_conformance.http import KitClient
from apollospace_conformance.session import KitSession

from ._requests import (
    Violations,
    expect_refusals,
    identity,
    operations,
    requires_bearer,
    sample,
)


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes] | None:
    """Header, claims and signature of a compact JWS, or None when the token is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header, claims, signature = json.loads(_b64decode(parts[0])), json.loads(_b64decode(parts[1])), _b64decode(parts[2])
    except (ValueError, binascii.Error):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    return header, claims, signature


def forged_tokens(kit: KitSession) -> list[tuple[str, str, str]]:
    """(name, token, how to rebuild it) for every invalid token the kit tries.

    A garbage token always; from tenant A's token, when it is a JWT, the same token with
    one signature byte flipped and an unsigned `alg: none` token carrying its claims; when
    it is an opaque token, the same token with its middle character changed.
    """
    garbage = f"apollospace-conformance-{kit.random.getrandbits(64):016x}"
    tokens = [("garbage", garbage, f"the literal string {garbage}")]
    token = kit.settings.token_a
    parsed = _jwt_parts(token)
    if parsed is not None and parsed[2]:
        header_b64, claims_b64, signature_b64 = token.split(".")
        signature = bytearray(parsed[2])
        signature[len(signature) // 2] ^= 0x01
        tokens.append(("flipped-signature", f"{header_b64}.{claims_b64}.{_b64encode(bytes(signature))}",
                       f"$APOLLOSPACE_CONFORMANCE_TOKEN_A with bit 0 of signature byte {len(signature) // 2} flipped"))
        none_header = {key: value for key, value in parsed[0].items() if key not in ("kid", "jku", "x5u", "jwk")}
        none_header["alg"] = "none"
        none_b64 = _b64encode(json.dumps(none_header, separators=(",", ":")).encode())
        tokens.append(("alg-none", f"{none_b64}.{claims_b64}.",
                       f"$APOLLOSPACE_CONFORMANCE_TOKEN_A's claims under the header {json.dumps(none_header)} and an empty signature"))
    elif token:
        middle = len(token) // 2
        changed = "B" if token[middle] == "A" else "A"
        tokens.append(("tampered", token[:middle] + changed + token[middle + 1:],
                       f"$APOLLOSPACE_CONFORMANCE_TOKEN_A (not a JWT) with character {middle} replaced by {changed!r}"))
    return tokens


@pytest.mark.requirement("/req/auth/bearer-required")
def test_bearer_required_on_every_operation(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/auth/bearer-required (every operation requires a bearer token; without one, 401 with the envelope).
    Test purpose: no operation of the spec serves, or answers other than 401, a call that carries no Authorization header.
    Test method: 1. for every operation of the spec that declares a security requirement, build a request (random v4 path ids,
    the documented example body) with tenant A's X-Organization-Id but no Authorization header 2. expect 401 with the error envelope.
    """
    found = Violations()
    with identity(api, token=None) as anonymous:
        expect_refusals(kit, anonymous, operations(kit, lambda op: requires_bearer(kit, op)), found, "/req/auth/bearer-required", [401],
                        "without a bearer token")
    found.raise_any()


@pytest.mark.requirement("/req/auth/invalid-token")
def test_invalid_tokens_refused(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/auth/invalid-token (a malformed or forged token is answered 401 `unauthenticated`).
    Test purpose: a garbage token, tenant A's token with one signature byte flipped and an `alg: none` token carrying
    tenant A's claims are all refused, on a deterministic sample of operations (every operation above the quick profile).
    Test method: 1. build the tokens (for a token that is not a JWT: garbage and the token with one character changed) 2. for each sampled operation
    and each token, send a request with tenant A's X-Organization-Id 3. expect 401 with the envelope and code `unauthenticated`.
    """
    found = Violations()
    tokens = forged_tokens(kit)
    chosen = sample(kit, operations(kit, lambda op: requires_bearer(kit, op)), "invalid-token")
    for name, token, _note in tokens:  # the note was for reproductions; tampered tokens now print as $APOLLOSPACE_CONFORMANCE_FORGED_TOKEN
        with identity(api, token=token) as forger:
            expect_refusals(kit, forger, chosen, found, "/req/auth/invalid-token", [401], f"with the {name} token", codes=["unauthenticated"])
    found.raise_any()


@pytest.mark.requirement("/req/auth/expired-token")
def test_expired_token_refused(kit: KitSession, api: KitClient) -> None:
    """Requirement: /req/auth/expired-token (an expired token is answered 401 `token_expired`, never served).
    Test purpose: the expired token of tenant A's user given with --expired-token is refused on a deterministic sample of operations.
    Test method: 1. skip unless --expired-token is given (and, if it is a JWT, its exp is in the past) 2. for each sampled operation,
    send a request with the expired token and tenant A's X-Organization-Id 3. expect 401 with the envelope and code `token_expired`.
    """
    token = kit.settings.expired_token
    if not token:
        pytest.skip("no expired token given (--expired-token / APOLLOSPACE_CONFORMANCE_EXPIRED_TOKEN): expiry cannot be tried")
    parsed = _jwt_parts(token)
    if parsed is not None and isinstance(parsed[1].get("exp"), int | float) and parsed[1]["exp"] > time.time():
        pytest.skip("the token given as --expired-token has not expired yet (its exp claim is in the future)")
    found = Violations()
    with identity(api, token=token) as expired:
        expect_refusals(kit, expired, sample(kit, operations(kit, lambda op: requires_bearer(kit, op)), "expired-token"), found,
                        "/req/auth/expired-token", [401], "with an expired token", codes=["token_expired"])
    found.raise_any()
