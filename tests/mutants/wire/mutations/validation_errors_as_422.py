"""Breaks /req/status-codes/invalid-input-400 and /req/status-codes/documented-only: a validating gateway answers invalid input 422, not 400.

The gateway validates bodies and parameters itself (or maps the server's
400s) and, like many frameworks, calls invalid input 422 Unprocessable
Content: a status neither the conventions table nor the operations document.
"""

from __future__ import annotations

from tests.mutants.wire.exchange import Exchange


def response(exchange: Exchange) -> None:
    if exchange.status == 400:
        exchange.status = 422
