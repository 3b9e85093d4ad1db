"""Breaks /req/webhooks/private-targets-refused: link-local addresses (169.254.0.0/16, the cloud metadata service) are accepted as webhook targets.

The partner's deny-list was written from memory: RFC 1918, loopback and the
IPv6 unique-local range, but not link-local, so `http://169.254.169.254/`
(instance credentials on most clouds) is a valid webhook URL: a textbook SSRF.
"""

from __future__ import annotations

import ipaddress

from apollospace_refserver import url_policy

_original = url_policy.classify
_LINK_LOCAL = ipaddress.ip_network("169.254.0.0/16")


def _classify(address: url_policy.Address) -> str | None:
    if isinstance(address, ipaddress.IPv4Address) and address in _LINK_LOCAL:
        return None
    return _original(address)


def patch() -> None:
    url_policy.classify = _classify
