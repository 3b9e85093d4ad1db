"""Apollo Space conformance kit: certify any server by URL against the v1 contract.

Run `apollospace-conformance certify --help`. The kit talks to the server under
test over HTTP only; every test cites the requirement IDs it verifies.
"""

from __future__ import annotations

import sys

# jsonschema builds 38 lark grammars when rfc3987_syntax is importable (1.5 s of CPU per process, twice per run
# with the embedded server), only for the `iri` formats, which the spec does not use: keep it out.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

__version__ = "0.1.0"
__all__ = ["__version__"]
