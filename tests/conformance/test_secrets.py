"""No token, secret or signature in anything a run prints or writes, however verbose the pytest run.

The live test runs the kit's suite through the pytest plugin with `-vvv -l
--tb=long --junitxml` (full assertion diffs, every frame's locals) against a
server that breaks a requirement, beside a partner's own failing test that
prints, logs and asserts on an exchange. Then it greps every output (terminal,
junit.xml, report.json, the certificates, tracebacks.log) for each token and
each part of it that alone identifies it (a JWT's payload and signature).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from apollospace_conformance.http import Exchange
from apollospace_conformance.locate import suite_root
from apollospace_conformance.masking import MASK, mask_text, token_parts
from apollospace_conformance.settings import KitSettings
from tests.mutants.catalog import serving

JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJvbGl2aWEiLCJvcmciOiJhY21lIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbi0xMjM0NTY"
ORG = "2f1f89d7-5c15-419b-bfe6-c4a1ef167827"

PARTNER_TEST = '''
import logging


def test_partner_own_check(api):
    """A partner's test that prints, logs and asserts on an exchange (and fails)."""
    sent = api.get("/leads", params={"limit": 1})
    headers = dict(sent.request_headers)
    print("sent", headers)
    logging.getLogger("partner").warning("sent %s", headers)
    assert sent.status == 299, sent
'''


def _exchange(**changes: object) -> Exchange:
    values = dict(method="POST", url="http://127.0.0.1:9/v1/webhooks", request_headers={"Authorization": f"Bearer {JWT}", "X-Organization-Id": ORG},
                  request_body={"url": "https://hooks.example.net"}, status=201, response_headers={"location": "/v1/webhooks/1"},
                  response_body={"id": "1", "secret": "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMw=="})
    values.update(changes)
    return Exchange(**values)  # type: ignore[arg-type]


def _leaks(text: str, tokens: list[str]) -> list[str]:
    return [part[:12] + "..." for token in tokens for part in token_parts(token) if part in text]


def test_exchange_repr_masks_credentials_and_secrets() -> None:
    """What pytest shows of an exchange (assertion rewriting, -l locals) has no token, no webhook secret."""
    shown = repr(_exchange())
    assert not _leaks(shown, [JWT]) and "whsec_" not in shown
    assert "X-Organization-Id" in shown and MASK in shown and "201" in shown


def test_settings_repr_masks_tokens() -> None:
    shown = repr(KitSettings(url="http://127.0.0.1:9/v1", token_a=JWT, org_a=ORG, member_token="member-secret-token"))
    assert not _leaks(shown, [JWT, "member-secret-token"])


def test_text_masks_tokens_cut_short_and_credential_shapes() -> None:
    """A repr cut to length still holds the start of a JWT; a bearer value may be no JWT at all."""
    cut = f"{{'Authorization': 'Bearer {JWT[:60]}...'}}"
    assert JWT[:40] not in mask_text(cut)
    assert "opaque-token-42" not in mask_text("Authorization: Bearer opaque-token-42")
    assert "whsec_" not in mask_text("secret whsec_c2VjcmV0LXNlY3JldA==")
    assert mask_text("curl -H \"Authorization: Bearer $APOLLOSPACE_CONFORMANCE_TOKEN_A\"") \
        == "curl -H \"Authorization: Bearer $APOLLOSPACE_CONFORMANCE_TOKEN_A\""  # reproductions stay runnable


@pytest.mark.slow
def test_verbose_pytest_run_leaks_no_token(tmp_path: Path) -> None:
    """-vvv -l --tb=long --junitxml through the plugin, with failures: no token nor JWT part in any output; the run exits 1 (FAIL)."""
    (tmp_path / "test_partner.py").write_text(PARTNER_TEST, "utf-8")
    output = tmp_path / "report"
    with serving("create_answers_200") as creds:
        credentials = tmp_path / "credentials.json"
        credentials.write_text(json.dumps(creds), "utf-8")
        tokens = [creds["tenant_a"]["token"], creds["tenant_b"]["token"], creds["expired_token"],
                  *(person["token"] for person in creds.get("users", []))]
        env = {key: value for key, value in os.environ.items() if not key.startswith("APOLLOSPACE_CONFORMANCE_")}
        env.update({"APOLLOSPACE_CONFORMANCE_URL": creds["url"], "APOLLOSPACE_CONFORMANCE_CREDENTIALS_FILE": str(credentials),
                    "APOLLOSPACE_CONFORMANCE_OUTPUT": str(output)})
        result = subprocess.run(
            [sys.executable, "-m", "pytest", str(suite_root()), str(tmp_path / "test_partner.py"), "-p", "no:cacheprovider", "-p", "no:randomly",
             "-vvv", "-l", "--tb=long", "-rA", "--log-level=DEBUG", f"--junitxml={tmp_path / 'pytest-junit.xml'}", "-k", "test_status_codes or test_partner",
             "--apollospace-profile", "quick", "--apollospace-seed", "3", "--rootdir", str(tmp_path), "-W", "ignore::pytest.PytestAssertRewriteWarning"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
        )
    terminal = result.stdout + result.stderr
    assert "test_partner_own_check" in terminal and "FAILED" in terminal, terminal[-3000:]
    assert "/req/status-codes/created-201" in terminal, terminal[-3000:]  # the suite ran and failed where the variant breaks it
    outputs = {"terminal": terminal, **{str(path.relative_to(tmp_path)): path.read_text("utf-8", errors="replace")
                                        for path in tmp_path.rglob("*") if path.is_file() and path.name != "credentials.json"}}
    assert "pytest-junit.xml" in outputs and any(name.endswith("report.json") for name in outputs), sorted(outputs)
    leaked = {name: _leaks(text, tokens) for name, text in outputs.items() if _leaks(text, tokens)}
    assert not leaked, leaked
    assert result.returncode == 1, terminal[-2000:]  # the verdict is FAIL: pytest's exit is not 0
