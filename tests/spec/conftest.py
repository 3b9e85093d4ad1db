"""Shared helpers of the spec tests: a writable copy of the spec tree and the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from apollospace_spec.locate import spec_root

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def spec_copy(tmp_path: Path) -> Path:
    """A copy of the real spec tree that a test may break."""
    return Path(shutil.copytree(spec_root(), tmp_path / "spec"))


def _cli_command() -> list[str]:
    script = Path(sys.executable).with_name("apollospace-spec")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "apollospace_spec.cli"]


@pytest.fixture
def run_cli() -> CliRunner:
    """Run `apollospace-spec` with the given arguments and capture its output."""

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        env = {key: value for key, value in os.environ.items() if key != "APOLLOSPACE_SPEC_DIR"}
        return subprocess.run(
            [*_cli_command(), *map(str, args)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    return run
