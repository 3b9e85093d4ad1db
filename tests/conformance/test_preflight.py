"""The preflight names each missing input with the requirements it leaves unexercised, derived from the suite itself;
the credentials file fills every input; the target's refusals are one line before any test runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apollospace_conformance import preflight
from apollospace_conformance.locate import suite_root
from apollospace_conformance.pytest_plugin import ConformanceRun, requirement_ids
from apollospace_conformance.settings import (
    ConfigError,
    KitSettings,
    from_credentials,
    load_settings,
)
from apollospace_spec import load_catalog

ORG_A = "2f1f89d7-5c15-419b-bfe6-c4a1ef167827"
ORG_B = "85ec86c7-cc61-4292-b257-1ef09b02936c"
ALL_CLASSES = set(load_catalog().classes)
FULL = KitSettings(url="http://127.0.0.1:8787/v1", token_a="a", org_a=ORG_A, token_b="b", org_b=ORG_B, expired_token="e",
                   member_token="m", viewer_token="v", rate_limit_probe=True)


def without(**changes: object) -> KitSettings:
    return KitSettings(**{**{name: getattr(FULL, name) for name in ("url", "token_a", "org_a", "token_b", "org_b", "expired_token",
                                                                      "member_token", "viewer_token", "rate_limit_probe")}, **changes})  # type: ignore[arg-type]


class _Collector:
    def __init__(self) -> None:
        self.fixtures: dict[str, tuple[set[str], list[str]]] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            self.fixtures[item.nodeid] = (set(getattr(item, "fixturenames", ())), requirement_ids(item))


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[set[str], list[str]]]:
    """Every suite test's fixture closure and cited requirements, as pytest collects them."""
    settings = KitSettings(url="http://127.0.0.1:9/v1", token_a="t", org_a=ORG_A, token_b="t", org_b=ORG_B, output=str(tmp_path_factory.mktemp("collect")))
    collector = _Collector()
    code = pytest.main(["--collect-only", "-q", "-c", str(suite_root() / "pytest.ini"), "--rootdir", str(suite_root()), "-p", "no:cacheprovider",
                        str(suite_root())], plugins=[ConformanceRun(settings), collector])
    assert code == 0
    return collector.fixtures


def test_nothing_missing_means_no_warning() -> None:
    """With every input given (and a target on this machine), the preflight has nothing to say."""
    assert preflight.missing_inputs(FULL, ALL_CLASSES) == []


def test_missing_tenant_b_names_the_isolation_requirements() -> None:
    """Without tenant B, the line names the isolation and rate-limit requirements and how to give it."""
    [missing] = preflight.missing_inputs(without(token_b="", org_b=""), ALL_CLASSES)
    line = missing.line()
    assert missing.input.name == "tenant B" and "--token-b" in line and "\n" not in line
    assert {"/req/organization/foreign-resource-404", "/req/organization/list-isolation"} <= set(missing.requirements)
    assert "organization" in missing.classes


def test_every_input_is_needed_by_some_test() -> None:
    """Each input the preflight knows is used by at least one test of the suite (an input nothing needs is a stale entry)."""
    needs = preflight.suite_needs(suite_root())
    assert all(needs[item.name] for item in preflight.INPUTS), {name: sorted(ids) for name, ids in needs.items()}


@pytest.mark.parametrize(("attribute", "value", "expected"), [
    ("expired_token", "", {"/req/auth/expired-token"}),
    ("member_token", "", {"/req/organization/roles"}),
    ("viewer_token", "", {"/req/organization/roles"}),
    ("rate_limit_probe", False, {"/req/rate-limits/429-retry-after"}),
])
def test_each_missing_input_names_its_requirements(attribute: str, value: object, expected: set[str]) -> None:
    """A role token, the expired token or the rate-limit probe left out is named with the requirements that need it."""
    [missing] = preflight.missing_inputs(without(**{attribute: value}), ALL_CLASSES)
    assert expected <= set(missing.requirements)


def test_unclaimed_classes_are_not_warned_about() -> None:
    """An input only unclaimed classes need is not missing for this run."""
    assert preflight.missing_inputs(without(expired_token=""), ALL_CLASSES - {"auth"}) == []


def test_the_derivation_agrees_with_pytest(collected: dict[str, tuple[set[str], list[str]]]) -> None:
    """Every requirement of a collected test whose fixtures include api_b (or the receiver) is in the preflight's list for it."""
    needs = preflight.suite_needs(suite_root())
    for fixture, name in (("api_b", "tenant B"), ("receiver", "webhook receiver reachable from the target")):
        cited = {rid for fixtures, ids in collected.values() if fixture in fixtures for rid in ids}
        assert cited, f"no collected test uses {fixture}"
        assert cited <= needs[name], f"{name}: the preflight misses {sorted(cited - needs[name])}"


@pytest.mark.parametrize(("target", "public", "warned"), [
    ("http://127.0.0.1:8787/v1", "", False),
    ("http://localhost:8787/v1", "", False),
    ("https://8.8.8.8/v1", "", True),
    ("https://8.8.8.8/v1", "http://10.1.2.3:8788", True),
    ("https://8.8.8.8/v1", "https://1.1.1.1:8443", False),
    ("http://10.0.0.7/v1", "http://10.0.0.9:8788", False),
])
def test_receiver_reachability(target: str, public: str, warned: bool) -> None:
    """A receiver announced on loopback, or on a private address to a public target, is flagged; one on the target's machine is not."""
    settings = without(url=target, webhook_public_url=public) if public else without(url=target)
    assert (preflight.receiver_unreachable(settings) is not None) == warned


def test_credentials_document_fills_every_input(tmp_path: Path) -> None:
    """The reference server's credentials JSON gives the URL, both tenants, the expired token and the member and viewer of tenant A."""
    document = {
        "url": "http://127.0.0.1:8787/v1",
        "tenant_a": {"token": "token-a", "organization_id": ORG_A},
        "tenant_b": {"token": "token-b", "organization_id": ORG_B},
        "expired_token": "token-expired",
        "users": [{"role": "member", "organization_id": ORG_B, "token": "b-member"},
                  {"role": "member", "organization_id": ORG_A, "token": "a-member"},
                  {"role": "viewer", "organization_id": ORG_A, "token": "a-viewer", "user": "victor"}],
    }
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps(document), "utf-8")
    settings = load_settings({"credentials_file": str(path), "rate_limit_probe": True}, environ={})
    assert (settings.url, settings.token_a, settings.org_b, settings.expired_token) == (document["url"], "token-a", ORG_B, "token-expired")
    assert (settings.member_token, settings.viewer_token) == ("a-member", "a-viewer")
    assert preflight.missing_inputs(settings, ALL_CLASSES) == []
    overridden = load_settings({"credentials_file": str(path), "token_b": "", "org_b": ""}, environ={"APOLLOSPACE_CONFORMANCE_URL": "http://127.0.0.1:1/v1"})
    assert overridden.url == "http://127.0.0.1:1/v1" and not overridden.has_tenant_b


@pytest.mark.parametrize("document", [[], {"url": "x"}, {"tenant_a": {"token": "secret-value"}}, {"tenant_a": {"token": "t", "organization_id": ORG_A}, "users": "x"}])
def test_bad_credentials_document_is_one_line_without_its_content(document: object) -> None:
    """A document without tenant A, or with a field of the wrong kind, is one ConfigError line that never repeats a token."""
    with pytest.raises(ConfigError) as caught:
        from_credentials(document, "creds.json")
    assert "\n" not in str(caught.value) and "secret-value" not in str(caught.value) and "creds.json" in str(caught.value)
