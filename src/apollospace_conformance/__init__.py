"""Apollo Space conformance kit: certify any server by URL against the v1 contract.

Run `apollospace-conformance certify --help`. The kit talks to the server under
test over HTTP only; every test cites the requirement IDs it verifies.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
