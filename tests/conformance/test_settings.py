"""One settings model: every layer (flags, environment, TOML) reads the same fields with the same messages; Retry-After dates."""

from __future__ import annotations

import email.utils
from pathlib import Path

import pytest

from apollospace_conformance.http import retry_after_seconds
from apollospace_conformance.settings import ConfigError, KitSettings, env_name, load_settings

ORG = "2f1f89d7-5c15-419b-bfe6-c4a1ef167827"
BASE = {"url": "http://127.0.0.1:9/v1", "token_a": "t", "org_a": ORG}


def test_every_layer_reads_the_models_fields(tmp_path: Path) -> None:
    config = tmp_path / "kit.toml"
    config.write_text('[conformance]\nseed = 7\ninclude_classes = ["auth", "leads"]\nmax_rate = 2.5\n', "utf-8")
    environ = {env_name("max_requests"): "500", env_name("rate_limit_probe"): "yes", env_name("exclude_classes"): "auth, dates"}
    settings = load_settings({**BASE, "seed": 8}, str(config), environ=environ)
    assert (settings.seed, settings.include_classes, settings.max_rate) == (8, ("auth", "leads"), 2.5)  # the flag wins over the file
    assert (settings.max_requests, settings.rate_limit_probe, settings.exclude_classes) == (500, True, ("auth", "dates"))


@pytest.mark.parametrize(("values", "environ", "message"), [
    ({"seed": "x"}, {}, "seed expects a int, got 'x'"),
    ({}, {env_name("max_rate"): "fast"}, "max_rate expects a float, got 'fast'"),
    ({"rate_limits": "reads=10"}, {}, "--rate-limits expects CLASS=N,..."),
    ({"profile": "deep"}, {}, "--profile must be one of quick, standard, thorough, got 'deep'"),
    ({"url": ""}, {}, "no target: pass --url (or APOLLOSPACE_CONFORMANCE_URL)"),
])
def test_bad_values_keep_their_one_line_messages(values: dict[str, str], environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({**BASE, **values}, environ=environ)
    assert message in str(raised.value)


def test_documented_limits_and_secrets_out_of_the_repr() -> None:
    settings = load_settings({**BASE, "rate_limits": "read=3000, billable=300", "token_b": "secret-b", "org_b": "85ec86c7-cc61-4292-b257-1ef09b02936c"},
                             environ={})
    assert settings.documented_limits == {"read": 3000, "billable": 300}
    assert "secret-b" not in repr(settings) and settings.redacted()["token_b"] == "<given>"


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = 1_800_000_000.0
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(email.utils.formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30.0)
    assert retry_after_seconds(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0  # a date gone by: retry now
    assert retry_after_seconds("soon") is None and retry_after_seconds("") is None


def test_every_setting_has_help_and_the_cli_and_plugin_share_it() -> None:
    options = dict(KitSettings.options())
    assert all(option["help"] for option in options.values())
    assert options["rate_limit_probe"]["switch"] and not options["seed"]["switch"]
    assert {name for name, option in options.items() if option["secret"]} == {"token_a", "token_b", "expired_token", "member_token", "viewer_token"}
