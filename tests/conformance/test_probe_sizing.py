"""The rate-limit probe is sized to the limit it aims at: past a stated limit (and its refill) without a 429 it stops,
NOT EXERCISED with the numbers, long before --probe-max-requests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mutants.catalog import certify, serving

RETRY_AFTER = "/req/rate-limits/429-retry-after"
CEILING = 6000  # --probe-max-requests by default: what a fixed burst would have sent


@pytest.mark.slow
def test_probe_stops_past_the_stated_limit(tmp_path: Path) -> None:
    (tmp_path / "apollospace-conformance.toml").write_text('[conformance]\nrate_limits = "read=200,write=100,billable=50"\n', "utf-8")
    with serving("tests.conformance.servers.limits_out_of_reach") as creds:
        code, report, output = certify(creds, tmp_path / "report", seed=3, classes=["rate-limits"], profile="quick")
    requirement = {r["id"]: r for r in report["requirements"]}[RETRY_AFTER]
    assert requirement["status"] == "NOT EXERCISED", output[-3000:]
    assert "past its limit of 200 per 60 s (--rate-limits)" in output, output[-3000:]
    assert report["provenance"]["requests_sent"] < CEILING // 5, report["provenance"]["requests_sent"]  # read and billable floods, sized
