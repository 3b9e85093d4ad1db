"""The CI gate templates (ci/) parse, do what the README says they do, and are shown in the README as they are."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from apollospace_conformance.cli import _parser
from apollospace_conformance.settings import SECRET_FIELDS, env_name

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = {"github-actions.yml": "yaml", "gitlab-ci.yml": "yaml"}


def _load(name: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / "ci" / name).read_text("utf-8"))


def _certify_words(script: str) -> list[str]:
    """The `apollospace-conformance certify ...` command of a step, as words, with CI expressions as placeholders."""
    command = " ".join(script.split())
    command = re.sub(r"\$\{\{[^}]*\}\}", "X", command)
    return shlex.split(command[command.index("apollospace-conformance certify"):])


def _check_command(words: list[str]) -> None:
    args = _parser().parse_args([word.replace("$", "") for word in words[1:]])  # the kit's own parser accepts it
    assert args.command == "certify" and args.url and args.profile == "standard" and args.rate_limit_probe
    assert args.output == "build/conformance"
    assert not [word for word in words if word.startswith("--") and word.removeprefix("--").replace("-", "_") in SECRET_FIELDS], \
        "tokens go through the environment, never on the command line"


def test_github_actions_job() -> None:
    workflow = _load("github-actions.yml")
    job = workflow["jobs"]["certify"]
    for name in SECRET_FIELDS:  # every token from the secret store, as the kit's environment variable
        assert job["env"][env_name(name)] == f"${{{{ secrets.{env_name(name)} }}}}"
    steps = job["steps"]
    runs = [step.get("run", "") for step in steps]
    assert any("pip install" in run and "apollospace-contract" in run for run in runs)
    _check_command(_certify_words(next(run for run in runs if "apollospace-conformance certify" in run)))
    uses = {step.get("uses", "").split("@")[0]: step for step in steps}
    assert uses["mikepenz/action-junit-report"]["with"]["report_paths"] == "build/conformance/junit.xml"
    assert uses["actions/upload-artifact"]["with"]["path"] == "build/conformance/"
    assert all(step["if"] == "${{ !cancelled() }}" for step in (uses["mikepenz/action-junit-report"], uses["actions/upload-artifact"]))


def test_gitlab_job() -> None:
    job = _load("gitlab-ci.yml")["apollospace-conformance"]
    assert any("pip install" in line and "apollospace-contract" in line for line in job["script"])
    _check_command(_certify_words(next(line for line in job["script"] if "apollospace-conformance certify" in line)))
    assert job["artifacts"]["reports"]["junit"] == "build/conformance/junit.xml"
    assert "build/conformance/" in job["artifacts"]["paths"] and job["artifacts"]["when"] == "always"
    text = (REPO / "ci" / "gitlab-ci.yml").read_text("utf-8")
    for name in SECRET_FIELDS:  # masked CI/CD variables, read by the kit from the environment
        assert env_name(name).removeprefix("APOLLOSPACE_CONFORMANCE") in text


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_readme_shows_the_template_as_it_is(name: str) -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    template = (REPO / "ci" / name).read_text("utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", readme, re.S)
    assert template in blocks, f"README.md does not show ci/{name} verbatim in a ```yaml block"
