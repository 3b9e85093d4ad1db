"""A misbehaving target: one unanswered request fails /req/responses/timely and the run goes on; only a target that
no liveness probe reaches ends the run; the run ends within a bounded time whatever the target does."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from apollospace_conformance import liveness
from apollospace_conformance.checks import ContractViolation
from apollospace_conformance.http import BudgetExhausted, KitClient, Pacer, TargetUnreachable
from apollospace_conformance.session import KitSession
from apollospace_conformance.settings import KitSettings
from apollospace_spec import bundled_spec
from tests.conformance.misbehaving import MisbehavingServer, every, paths

KIT = str(Path(sys.executable).parent / "apollospace-conformance")
ORG = "2f1f89d7-5c15-419b-bfe6-c4a1ef167827"
TIMEOUT = 1.0
# The longest a dead target can hold one request: its timeout, then every probe's timeout and the pauses between them.
LONGEST_JUDGEMENT = TIMEOUT + liveness.PROBE_ATTEMPTS * TIMEOUT + sum(liveness.PROBE_PAUSES) + 2.0


def client(url: str, pacer: Pacer | None = None) -> KitClient:
    return KitClient(url, pacer or Pacer(1000, 0), token="t", org_id=ORG, timeout=TIMEOUT)


@pytest.mark.parametrize(("how", "said"), [
    ("hang", "no complete answer within 1 s"),
    ("reset", "closed or reset"),
    ("garbage", "not a well-formed HTTP response"),
    ("trickle", "no complete answer within 1 s"),
])
def test_one_unanswered_request_is_a_timely_failure_and_the_run_goes_on(how: str, said: str) -> None:
    """A hang, a reset, bytes that are not HTTP or a body that trickles in fail /req/responses/timely; the next request is sent."""
    with MisbehavingServer(paths("ok", broken=how)) as server:
        api = client(server.url)
        with pytest.raises(ContractViolation) as caught:
            api.get("/broken")
        assert caught.value.requirement == liveness.TIMELY
        assert said in caught.value.received and "answered a probe" in caught.value.received
        assert "curl" in (caught.value.reproduction or "")
        assert api.pacer.unreachable is None
        assert api.get("/agents").status == 200


def test_a_target_that_answers_nothing_is_declared_unreachable_in_bounded_time() -> None:
    """When the liveness probes go unanswered too, the target is unreachable, and every later request fails at once."""
    with MisbehavingServer(every("hang")) as server:
        api = client(server.url)
        started = time.monotonic()
        with pytest.raises(TargetUnreachable) as caught:
            api.get("/leads")
        assert time.monotonic() - started < LONGEST_JUDGEMENT
        assert f"{liveness.PROBE_ATTEMPTS} liveness probes in a row" in str(caught.value)
        assert len(server.requests) == 1 + liveness.PROBE_ATTEMPTS
        started = time.monotonic()
        with pytest.raises(TargetUnreachable):
            api.get("/agents")
        assert time.monotonic() - started < 0.5
        assert len(server.requests) == 1 + liveness.PROBE_ATTEMPTS


def test_probes_go_to_other_documented_reads() -> None:
    """A server hanging one list operation is not taken for dead: the probes rotate over the spec's other reads."""
    with MisbehavingServer(paths("ok", agents="hang")) as server:
        api = client(server.url)
        with pytest.raises(ContractViolation):
            api.get("/agents")
        probed = [path for _, path in server.requests[1:]]
        assert probed and "/v1/agents" not in probed
        assert all(path.removeprefix("/v1") in dict(liveness.probe_paths()) for path in probed)


def test_the_run_session_records_what_went_unanswered(tmp_path: Path) -> None:
    """judge_unanswered (the fuzz layer's entry, with requests' exceptions) records the violation in the run's observations."""
    with MisbehavingServer(paths("ok", broken="hang")) as server:
        kit = KitSession(KitSettings(url=server.url, token_a="t", org_a=ORG, timeout=TIMEOUT, output=str(tmp_path)))
        try:
            requests.get(f"{server.url}/broken", timeout=TIMEOUT)
        except requests.RequestException as exc:
            found = liveness.judge_unanswered(kit, "GET", f"{server.url}/broken", exc, "curl -X GET ...")
        assert found.requirement == liveness.TIMELY and "no complete answer" in found.received
        assert kit.observations.violations[liveness.TIMELY] == [found]
        assert liveness.TIMELY in kit.activity.broken


def test_the_time_budget_skips_what_is_left_but_leaves_room_for_cleanup() -> None:
    """Past --max-duration no request is sent (BudgetExhausted, a skip); a reserve opened for cleanup still goes through."""
    pacer = Pacer(2, 0, max_duration=0.2)
    pacer.acquire()
    time.sleep(0.3)
    with pytest.raises(BudgetExhausted, match="max-duration"):
        pacer.acquire()
    pacer.open_reserve(2)
    for _ in range(3):  # the one left of the request budget, and the reserve
        pacer.acquire()
    with pytest.raises(BudgetExhausted, match="request budget"):
        pacer.acquire()


def test_the_default_timeout_is_the_documented_response_time() -> None:
    """--timeout defaults to the response time the spec's info.description states."""
    assert "answered within 15 seconds" in " ".join(bundled_spec()["info"]["description"].split())
    assert KitSettings().timeout == liveness.documented_timeout() == 15.0


def _certify(url: str, output: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run([KIT, "certify", "--url", url, "--token-a", "secret-token-a", "--org-a", ORG, "--profile", "quick", "--output", str(output),
                             "--timeout", str(TIMEOUT), *extra], cwd=output.parent, capture_output=True, text=True, timeout=300,
                            env={"PATH": str(Path(sys.executable).parent)})
    return result, time.monotonic() - started


@pytest.mark.slow
def test_a_target_that_dies_mid_run_ends_it_with_a_partial_report(tmp_path: Path) -> None:
    """A target that answers the preflight and then nothing: the run stops in bounded time, one line, a partial report, exit 2."""
    answered = {"count": 0}

    def once_then_hang(method: str, path: str) -> str:
        answered["count"] += 1
        return "ok" if answered["count"] == 1 else "hang"

    with MisbehavingServer(once_then_hang) as server:
        result, elapsed = _certify(server.url, tmp_path / "report", "--include-classes", "versioning")
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-3000:]
    assert "stopped answering" in result.stderr and "liveness probes in a row" in result.stderr
    assert "Traceback" not in output and "secret-token-a" not in output
    assert elapsed < 120, f"took {elapsed:.0f} s"
    report = json.loads((tmp_path / "report" / "report.json").read_text("utf-8"))
    assert report["verdict"] != "PASS"


@pytest.mark.slow
def test_a_target_that_hangs_its_writes_ends_the_run_at_max_duration(tmp_path: Path) -> None:
    """Reads answered, writes never: each write fails timely, the probes keep the run alive, and --max-duration ends it (the rest skipped)."""
    with MisbehavingServer(lambda method, path: "ok" if method == "GET" else "hang") as server:
        result, elapsed = _certify(server.url, tmp_path / "report", "--max-duration", "10")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert "Traceback" not in output and "secret-token-a" not in output
    assert elapsed < 120, f"took {elapsed:.0f} s"
    report = json.loads((tmp_path / "report" / "report.json").read_text("utf-8"))
    statuses = {entry["id"]: entry for entry in report["requirements"]}
    assert statuses[liveness.TIMELY]["status"] == "FAIL"
    assert any("--max-duration" in entry["reason"] for entry in statuses.values()), "no test was skipped for the time budget"
