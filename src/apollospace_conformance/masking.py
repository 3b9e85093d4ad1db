"""Secrets never leave the kit: masks for headers, bodies and any text a run prints or writes.

Two layers, so one forgotten path is not a leak. At the source, the objects
that carry secrets (an exchange's headers, the settings) mask them in their
repr, which is what pytest's assertion rewriting, `-l` locals and logs show.
At the exits, every text pytest reports (terminal, junit, tracebacks.log,
captured logs) goes through `mask_text`, which replaces the run's known
tokens and anything shaped like a credential: a bearer value, a JWT (even one
cut short by a repr), a `whsec_` secret, a `v1,` webhook signature.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

MASK = "<redacted>"
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "webhook-signature"})
SENSITIVE_KEYS = frozenset({"secret", "token", "access_token", "refresh_token", "password", "api_key", "signing_secret",
                            "token_a", "token_b", "expired_token", "member_token", "viewer_token"})
MIN_PART = 12  # a JWT segment this long identifies its token; shorter pieces are too common to mask

_PATTERNS = (
    re.compile(r"(?i)\bbearer\s+(?![$<])[^\s'\",}\]]+"),  # an Authorization value, whatever the token looks like
    re.compile(r"\beyJ[\w-]{4,}(?:\.[\w-]*){0,2}"),  # a JWT, or the start of one a repr cut off
    re.compile(r"\bwhsec_[A-Za-z0-9+/=]+"),  # a Standard Webhooks secret
    re.compile(r"\bv1,[A-Za-z0-9+/]{20,}={0,2}"),  # a Standard Webhooks signature
)


def token_parts(token: str) -> list[str]:
    """The token and each part of it that alone identifies it (a JWT's payload and signature)."""
    parts = [token] if token else []
    pieces = token.split(".")
    if len(pieces) > 1:
        parts += [piece for piece in pieces[1:] if len(piece) >= MIN_PART]
    return parts


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every known secret (and its identifying parts) and every credential-shaped string masked."""
    for secret in sorted(secrets, key=len, reverse=True):
        for part in token_parts(secret):
            text = text.replace(part, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda found: found.group(0)[:7] + MASK if found.group(0).lower().startswith("bearer") else MASK, text)
    return text


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers with the value of every credential header masked."""
    return {name: (MASK if name.lower() in SENSITIVE_HEADERS else value) for name, value in headers.items()}


def mask_value(value: Any) -> Any:
    """A JSON value with the value of every secret-named key masked (a new webhook's `secret`)."""
    if isinstance(value, dict):
        return {key: (MASK if str(key).lower() in SENSITIVE_KEYS else mask_value(item)) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_value(item) for item in value]
    if isinstance(value, str):
        return mask_text(value)
    return value


def install_log_masking(redact: Callable[[str], str]) -> None:
    """Every log record of the process (the kit's, httpx's, a partner's) is masked once formatted, whoever handles it."""
    global _redact
    first = _redact is None
    _redact = redact  # the newest run's secrets; one run at a time per process
    if not first:
        return
    make_record = logging.getLogRecordFactory()

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        if _redact is not None:
            try:
                record.msg, record.args = _redact(record.getMessage()), None
            except Exception:  # a record that cannot be formatted is logging's problem to report, not ours
                pass
        return record

    logging.setLogRecordFactory(masked_record)


_redact: Callable[[str], str] | None = None
