"""The Apollo Space reference server: a stateful implementation of the v1 contract.

It validates every request against the bundled spec (no second copy of a
schema), stores everything in SQLite, and runs agent runs, imports and webhook
deliveries in background workers. It is the conformance kit's default target
and a local stand-in for integrators.
"""

from __future__ import annotations

import sys

# jsonschema builds 38 lark grammars when rfc3987_syntax is importable (1.5 s of CPU per process, twice per run
# with the embedded server), only for the `iri` formats, which the spec does not use: keep it out.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from apollospace_refserver.app import create_app  # noqa: E402 (after the import guard above)
from apollospace_refserver.config import Settings  # noqa: E402

__all__ = ["Settings", "create_app"]
