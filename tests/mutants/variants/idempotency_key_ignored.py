"""Breaks /req/idempotency/replay: the Idempotency-Key header never reaches the application, so every retry runs again.

A gateway or CORS allow-list in front of the API forwards only the headers it
knows, and `Idempotency-Key` is not among them. Every keyed behaviour goes at
once, so the variant inevitably breaks all four: a retry creates a second
lead (replay), a reused key with another body creates it too
(key-reuse-conflict), sixteen concurrent duplicates create sixteen leads
(concurrent-duplicate), and a retried invokeAgent starts and bills a second
run (no-double-billing).
"""

from __future__ import annotations

from tests.mutants.asgi import ASGIApp, Scope, rewrite_requests


def _strip_key(scope: Scope) -> None:
    scope["headers"] = [(name, value) for name, value in scope.get("headers", []) if name.lower() != b"idempotency-key"]


def wrap(app: ASGIApp) -> ASGIApp:
    return rewrite_requests(app, _strip_key)
