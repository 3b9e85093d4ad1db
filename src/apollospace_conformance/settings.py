"""Kit settings: command line, then environment variables, then a TOML file, then defaults.

Every setting has the same name everywhere: `--max-requests` on the command line,
`APOLLOSPACE_CONFORMANCE_MAX_REQUESTS` in the environment, `max_requests` in the
`[conformance]` table of `apollospace-conformance.toml`. Secrets (tokens) are never
printed; `redacted()` is what reports show.

A credentials file (`--credentials-file`, the JSON `apollospace-refserver serve
--credentials-file` writes; see CREDENTIALS_FORMAT) fills in whatever the other
layers left unset: the URL, both tenants, the expired token, the role tokens.
"""

from __future__ import annotations

import functools
import json
import os
import tomllib
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ENV_PREFIX = "APOLLOSPACE_CONFORMANCE_"
DEFAULT_CONFIG_FILE = "apollospace-conformance.toml"
PROFILES = ("quick", "standard", "thorough")
SECRET_FIELDS = ("token_a", "token_b", "expired_token", "member_token", "viewer_token")
DEFAULT_MAX_DURATION_SECONDS = 3600.0
CREDENTIALS_FORMAT = (
    'a JSON object: {"url": BASE_URL, "tenant_a": {"token": T, "organization_id": ORG}, "tenant_b": {...same...}, '
    '"expired_token": T, "users": [{"role": "member" or "viewer", "organization_id": ORG, "token": T}, ...]}; '
    "only tenant_a is required, other keys are ignored"
)


class ConfigError(Exception):
    """Bad usage or configuration: reported as one line, exit status 2."""


@dataclass(frozen=True)
class Profile:
    name: str
    max_examples: int
    stateful: bool
    negative: bool
    pagination_items: int


PROFILE_SETTINGS = {
    "quick": Profile("quick", max_examples=3, stateful=False, negative=True, pagination_items=5),
    "standard": Profile("standard", max_examples=20, stateful=True, negative=True, pagination_items=12),
    "thorough": Profile("thorough", max_examples=100, stateful=True, negative=True, pagination_items=30),
}


@dataclass(frozen=True)
class KitSettings:
    url: str = ""
    token_a: str = ""
    org_a: str = ""
    token_b: str = ""
    org_b: str = ""
    expired_token: str = ""
    member_token: str = ""  # a member of tenant A's organization (roles, billing visibility)
    viewer_token: str = ""  # a viewer of tenant A's organization
    include_classes: tuple[str, ...] = ()
    exclude_classes: tuple[str, ...] = ()
    profile: str = "standard"
    seed: int = 20261128
    max_requests: int = 20_000
    max_rate: float = 0.0  # requests per second; 0 means unlimited
    rate_limit_probe: bool = False
    probe_max_requests: int = 6_000
    webhook_bind: str = "127.0.0.1:0"
    webhook_public_url: str = ""
    output: str = "build/conformance"
    timeout: float = field(default_factory=lambda: _documented_timeout())  # seconds for one whole answer
    max_duration: float = DEFAULT_MAX_DURATION_SECONDS  # the run stops sending after this; the rest is skipped
    credentials_file: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def profile_settings(self) -> Profile:
        return PROFILE_SETTINGS[self.profile]

    @property
    def has_tenant_b(self) -> bool:
        return bool(self.token_b and self.org_b)

    def redacted(self) -> dict[str, Any]:
        """The settings as a report may show them: secrets replaced by whether they were given."""
        shown = asdict(self)
        shown.pop("extra", None)
        for name in SECRET_FIELDS:
            shown[name] = "<given>" if shown[name] else "<not given>"
        return shown

    def validate(self) -> KitSettings:
        parsed = urlparse(self.url)
        if not self.url:
            raise ConfigError("no target: pass --url (or APOLLOSPACE_CONFORMANCE_URL), e.g. --url http://127.0.0.1:8787/v1")
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(f"--url must be an http(s) URL with a host, got {self.url!r}")
        if not self.token_a or not self.org_a:
            raise ConfigError("tenant A credentials are required: --token-a and --org-a")
        if bool(self.token_b) != bool(self.org_b):
            raise ConfigError("tenant B needs both --token-b and --org-b (or neither)")
        for option, value in (("--org-a", self.org_a), ("--org-b", self.org_b)):
            if value and not _is_uuid(value):
                raise ConfigError(f"{option} must be an organization id (a UUID, sent as X-Organization-Id), got {value!r}")
        if self.org_b and self.org_b.lower() == self.org_a.lower():
            raise ConfigError("--org-b must be a second organization, not tenant A's own")
        if self.profile not in PROFILES:
            raise ConfigError(f"--profile must be one of {', '.join(PROFILES)}, got {self.profile!r}")
        if self.max_requests < 100:
            raise ConfigError("--max-requests must be at least 100")
        if self.max_rate < 0:
            raise ConfigError("--max-rate must be 0 (unlimited) or positive")
        host, _, port = self.webhook_bind.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"--webhook-bind must be HOST:PORT, got {self.webhook_bind!r}")
        if self.timeout <= 0 or self.max_duration <= 0:
            raise ConfigError("--timeout and --max-duration must be positive numbers of seconds")
        return self


@functools.cache
def _documented_timeout() -> float:
    """The response time the spec documents: the default of --timeout."""
    from apollospace_conformance.liveness import documented_timeout

    return documented_timeout()


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


_FIELD_TYPES = {f.name: f.type for f in fields(KitSettings)}


def _convert(name: str, value: Any) -> Any:
    kind = _FIELD_TYPES[name]
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "bool":
            return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes", "on")
        if kind == "tuple[str, ...]":
            items = value if isinstance(value, list | tuple) else str(value).split(",")
            return tuple(str(item).strip() for item in items if str(item).strip())
    except (TypeError, ValueError):
        raise ConfigError(f"{name} expects a {kind}, got {value!r}") from None
    return str(value)


def from_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    table = data.get("conformance", data)
    unknown = set(table) - set(_FIELD_TYPES) - {"extra"}
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s): {', '.join(sorted(unknown))}")
    for secret in SECRET_FIELDS:
        if secret in table:
            raise ConfigError(f"{path}: keep secrets out of files; pass {secret} by flag or environment")
    return {name: _convert(name, value) for name, value in table.items()}


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = dict(os.environ if environ is None else environ)
    values = {}
    for name in _FIELD_TYPES:
        key = ENV_PREFIX + name.upper()
        if key in environ and name != "extra":
            values[name] = _convert(name, environ[key])
    return values


def from_credentials(data: Any, source: str = "the credentials") -> dict[str, Any]:
    """Settings from a credentials document (CREDENTIALS_FORMAT): URL, tenants, expired token, member and viewer tokens."""

    def text(value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{source}: {where} must be a non-empty string; expected {CREDENTIALS_FORMAT}")
        return value.strip()

    if not isinstance(data, dict) or not isinstance(data.get("tenant_a"), dict):
        raise ConfigError(f"{source}: no tenant_a object; expected {CREDENTIALS_FORMAT}")
    values: dict[str, Any] = {}
    if "url" in data:
        values["url"] = text(data["url"], "url")
    for tenant, suffix in (("tenant_a", "a"), ("tenant_b", "b")):
        if data.get(tenant) is None:
            continue
        if not isinstance(data[tenant], dict):
            raise ConfigError(f"{source}: {tenant} must be an object; expected {CREDENTIALS_FORMAT}")
        values[f"token_{suffix}"] = text(data[tenant].get("token"), f"{tenant}.token")
        values[f"org_{suffix}"] = text(data[tenant].get("organization_id"), f"{tenant}.organization_id")
    if data.get("expired_token") is not None:
        values["expired_token"] = text(data["expired_token"], "expired_token")
    users = data.get("users") or []
    if not isinstance(users, list) or not all(isinstance(user, dict) for user in users):
        raise ConfigError(f"{source}: users must be a list of objects; expected {CREDENTIALS_FORMAT}")
    for role in ("member", "viewer"):
        person = next((user for user in users if user.get("role") == role and user.get("organization_id") == values["org_a"]), None)
        if person is not None:
            values[f"{role}_token"] = text(person.get("token"), f"the {role}'s token")
    return values


def read_credentials_file(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"credentials file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the credentials file {path}: {type(exc).__name__}") from None
    except json.JSONDecodeError as exc:  # the message names a position, never the content
        raise ConfigError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    return from_credentials(data, path)


def load_settings(cli_values: dict[str, Any], config_file: str | None = None, environ: dict[str, str] | None = None) -> KitSettings:
    """Merge the layers (command line wins; a credentials file fills only what no layer set) and validate."""
    merged: dict[str, Any] = {}
    path = Path(config_file) if config_file else Path(DEFAULT_CONFIG_FILE)
    if config_file or path.is_file():
        merged.update(from_toml(path))
    merged.update(from_environment(environ))
    merged.update({name: _convert(name, value) for name, value in cli_values.items() if value is not None})
    if merged.get("credentials_file"):
        merged = {**read_credentials_file(merged["credentials_file"]), **merged}
    return KitSettings(**merged).validate()
