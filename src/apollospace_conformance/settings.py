"""Kit settings: one model for the command line, the pytest plugin, environment variables and TOML.

`KitSettings` (pydantic) is the only list of settings: each field's type,
default and help text. The CLI's flags (`--max-requests`), the plugin's
options (`--apollospace-max-requests`), the environment variables
(`APOLLOSPACE_CONFORMANCE_MAX_REQUESTS`) and the keys of the `[conformance]`
table of `apollospace-conformance.toml` (`max_requests`) are all derived from
it, so they cannot drift apart. Layers: command line, then environment
variables, then the TOML file, then defaults. Secrets (tokens) are never
printed: their fields are left out of the model's repr, and `redacted()` is
what reports show.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

ENV_PREFIX = "APOLLOSPACE_CONFORMANCE_"
PLUGIN_PREFIX = "--apollospace-"  # the plugin's options: the CLI's flags under pytest's namespace
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


def env_name(name: str) -> str:
    """The environment variable of a setting: token_a -> APOLLOSPACE_CONFORMANCE_TOKEN_A (also what reproductions show for a token)."""
    return ENV_PREFIX + name.upper()


@dataclass(frozen=True)
class Profile:
    name: str
    max_examples: int
    stateful: bool
    negative: bool
    pagination_items: int
    certification: bool  # False: a smoke run, and the report says it is not a certification
    skip_slow: bool  # tests that wait on the server's clock (retry schedules, Retry-After) are skipped, saying why
    probe_by_default: bool  # --embedded turns the rate-limit probe on unless the profile is a smoke run
    fuzz: bool = True  # the property-based layer (test_fuzz); a smoke run leaves it out


PROFILE_SETTINGS = {
    # A smoke run: every behaviour test once, no generated cases, nothing that waits on the server's clock, no probe by default.
    "quick": Profile("quick", max_examples=3, stateful=False, negative=True, pagination_items=3, certification=False, skip_slow=True,
                     probe_by_default=False, fuzz=False),
    "standard": Profile("standard", max_examples=15, stateful=True, negative=True, pagination_items=12, certification=True, skip_slow=False,
                        probe_by_default=True),
    "thorough": Profile("thorough", max_examples=100, stateful=True, negative=True, pagination_items=30, certification=True, skip_slow=False,
                        probe_by_default=True),
    # Not offered to partners: the broken-variant catalog (tests/mutants) needs every test, each variant's run short and its fuzzing stateless.
    "catalog": Profile("catalog", max_examples=3, stateful=False, negative=True, pagination_items=5, certification=True, skip_slow=False,
                       probe_by_default=True),
}


def _option(help_text: str, *, group: str = "target", switch: bool = False, metavar: str | None = None, secret: bool = False, **field: Any) -> Any:
    """A field of the settings model with what the command line and the plugin need to offer it."""
    extra = {"group": group, "switch": switch, "metavar": metavar, "secret": secret}
    return Field(description=help_text, json_schema_extra=extra, repr=not secret, **field)


class KitSettings(BaseModel):
    """Every setting of a run: its type, its default and its help text, once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = _option("base URL of the server under test, including /v1 (e.g. https://api.example.com/v1)", default="")
    token_a: str = _option("bearer token of tenant A (better: APOLLOSPACE_CONFORMANCE_TOKEN_A, flags show in `ps`); never printed", default="", secret=True)
    org_a: str = _option("organization id (X-Organization-Id) of tenant A", default="")
    token_b: str = _option("bearer token of tenant B: a second organization tenant A's user is not a member of", default="", secret=True)
    org_b: str = _option("organization id of tenant B", default="")
    expired_token: str = _option("an expired token of tenant A's user, for the expiry test", default="", secret=True)
    member_token: str = _option("a token of a member of tenant A's organization, for the role tests", default="", secret=True)
    viewer_token: str = _option("a token of a viewer of tenant A's organization, for the role tests", default="", secret=True)
    include_classes: tuple[str, ...] = _option("comma-separated conformance classes to claim (default: all; see `apollospace-conformance requirements`)",
                                               group="scope", default=())
    exclude_classes: tuple[str, ...] = _option("comma-separated conformance classes not to claim", group="scope", default=())
    profile: str = _option("depth: quick (a smoke run, not a certification), standard (default: the certification) or thorough (deeper fuzzing)",
                           group="scope", default="standard")
    seed: int = _option("seed for every generated case; the same seed gives the same cases", group="scope", default=20261128)
    max_requests: int = _option("request budget (default 20000); tests past it are skipped", group="good guest", default=20_000)
    max_rate: float = _option("most requests per second (default: unlimited)", group="good guest", default=0.0)
    rate_limit_probe: bool = _option("flood tenant B's billable calls, then its reads, up to their limits: 429, an honest Retry-After, limits per "
                                     "organization and operation type", group="good guest", switch=True, default=False)
    probe_max_requests: int = _option("most requests the probe may send (default 6000; the billable flood uses at most a fifth); the probe sends "
                                      "fewer when the limits are known (--rate-limits, or RateLimit headers the target sends)", group="good guest",
                                      default=6_000)
    rate_limits: str = _option("the target's documented limits per window, e.g. read=3000,write=1500,billable=300: the probe floods just past "
                               "them instead of up to --probe-max-requests", group="good guest", metavar="CLASS=N,...", default="")
    timeout: float = _option("longest wait for one whole answer (default: the spec's documented response time, 15 s); a later answer fails "
                             "/req/responses/timely", group="good guest", metavar="SECONDS", default_factory=lambda: _documented_timeout())
    max_duration: float = _option(f"the run sends nothing after this; the tests left are skipped and the report is partial (default "
                                  f"{DEFAULT_MAX_DURATION_SECONDS:g})", group="good guest", metavar="SECONDS", default=DEFAULT_MAX_DURATION_SECONDS)
    webhook_bind: str = _option("HOST:PORT for the kit's webhook receiver (default 127.0.0.1:0)", group="webhooks", default="127.0.0.1:0")
    webhook_public_url: str = _option("URL the server under test should call to reach the receiver (default: the bind address)", group="webhooks",
                                      default="")
    output: str = _option("folder for junit.xml, report.json, certificate.md and certificate.html (default build/conformance)", group="output",
                          default="build/conformance")
    credentials_file: str = _option("JSON with the URL and every credential, as `apollospace-refserver serve --credentials-file` writes it: "
                                    + CREDENTIALS_FORMAT + "; flags and environment variables win over it", metavar="PATH", default="")
    extra: dict[str, Any] = Field(default_factory=dict, exclude=True)

    @classmethod
    def options(cls) -> list[tuple[str, dict[str, Any]]]:
        """(field name, its option metadata and help) for every setting a flag can give, in order."""
        found = []
        for name, info in cls.model_fields.items():
            if info.description is None:
                continue
            extra = dict(info.json_schema_extra or {})  # type: ignore[arg-type]
            found.append((name, {**extra, "help": info.description, "type": _FIELD_KINDS[name]}))
        return found

    @property
    def profile_settings(self) -> Profile:
        return PROFILE_SETTINGS[self.profile]

    @property
    def documented_limits(self) -> dict[str, int]:
        """--rate-limits as {rate class: requests per window}; {} when not given."""
        limits = {}
        for item in filter(None, (part.strip() for part in self.rate_limits.split(","))):
            name, _, count = item.partition("=")
            if name.strip() not in ("read", "write", "billable") or not count.strip().isdigit() or int(count) < 1:
                raise ConfigError(f"--rate-limits expects CLASS=N,... with CLASS read, write or billable, got {self.rate_limits!r}")
            limits[name.strip()] = int(count)
        return limits

    @property
    def has_tenant_b(self) -> bool:
        return bool(self.token_b and self.org_b)

    def redacted(self) -> dict[str, Any]:
        """The settings as a report may show them: secrets replaced by whether they were given."""
        shown = self.model_dump()
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
        if self.profile not in PROFILE_SETTINGS:
            raise ConfigError(f"--profile must be one of {', '.join(PROFILES)}, got {self.profile!r}")
        if self.max_requests < 100:
            raise ConfigError("--max-requests must be at least 100")
        if self.max_rate < 0:
            raise ConfigError("--max-rate must be 0 (unlimited) or positive")
        host, _, port = self.webhook_bind.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"--webhook-bind must be HOST:PORT, got {self.webhook_bind!r}")
        self.documented_limits  # noqa: B018 (raises ConfigError when malformed)
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


def option_arguments(option: dict[str, Any]) -> dict[str, Any]:
    """How a setting is offered as a command-line option (the CLI's flag, or the plugin's under --apollospace-): a switch or a typed value.

    The default is None, so an option not given leaves the setting to the environment, the TOML file or the default.
    """
    if option["switch"]:
        return {"action": "store_true", "default": None, "help": option["help"]}
    kind = {"int": int, "float": float}.get(option["type"])
    return {"default": None, "help": option["help"], "metavar": option["metavar"], **({"type": kind} if kind else {})}


_FIELD_KINDS = {name: str(info.annotation.__name__ if isinstance(info.annotation, type) else info.annotation)
                for name, info in KitSettings.model_fields.items()}
_FIELD_TYPES = {name: TypeAdapter(info.annotation) for name, info in KitSettings.model_fields.items()}


def _convert(name: str, value: Any) -> Any:
    """One setting's value in its field's type (the model's own coercion: "42" -> 42, "yes" -> True)."""
    kind = _FIELD_KINDS[name]
    if kind.startswith("tuple") and not isinstance(value, list | tuple):
        value = [item.strip() for item in str(value).split(",")]
    if isinstance(value, list | tuple):
        value = [str(item).strip() for item in value if str(item).strip()]
    try:
        return _FIELD_TYPES[name].validate_python(value)
    except ValidationError:
        raise ConfigError(f"{name} expects a {kind}, got {value!r}") from None


def from_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    table = data.get("conformance", data)
    unknown = set(table) - set(_FIELD_KINDS) - {"extra"}
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s): {', '.join(sorted(unknown))}")
    for secret in SECRET_FIELDS:
        if secret in table:
            raise ConfigError(f"{path}: keep secrets out of files; pass {secret} by flag or environment")
    return {name: _convert(name, value) for name, value in table.items()}


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = dict(os.environ if environ is None else environ)
    values = {}
    for name in _FIELD_KINDS:
        key = env_name(name)
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
