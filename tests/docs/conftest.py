"""Fixtures of the docs tests: the rendered site, the built folder, the Node tools."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from apollospace_docs import render_site, site_from_spec, write_site
from apollospace_docs.preview import render_preview
from apollospace_docs.view_model import DocsSite

REPOSITORY = Path(__file__).resolve().parents[2]
BUILD = REPOSITORY / "build" / "docs"
NODE_SOURCES = Path(__file__).parent / "node"
NODE_CACHE = Path(
    os.environ.get("APOLLOSPACE_DOCS_NODE_CACHE", Path.home() / ".cache" / "apollospace-docs-node")
)
CHROMIUM = Path(os.environ.get("APOLLOSPACE_DOCS_CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture(scope="session")
def site() -> DocsSite:
    return site_from_spec()


@pytest.fixture(scope="session")
def files(site: DocsSite) -> dict[str, str]:
    """Every output file but the preview, as `render_site` returns them."""
    return render_site(site)


@pytest.fixture(scope="session")
def built(site: DocsSite, files: dict[str, str]) -> Path:
    """build/docs written as `make docs` writes it (pages, Markdown, preview)."""
    write_site(BUILD, files)
    write_site(BUILD, render_preview(site, files))
    return BUILD


@pytest.fixture(scope="session")
def node_tools() -> Path:
    """A folder outside the repository with our scripts, @mdx-js/mdx and playwright-core.

    Installed with `npm ci` from tests/docs/node/package-lock.json the first time, and
    again only when that lock file changes.
    """
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        pytest.skip(
            "npm/node are not installed: the MDX and browser checks need Node.js 20 and npm"
        )
    NODE_CACHE.mkdir(parents=True, exist_ok=True)
    manifest = [NODE_SOURCES / "package.json", NODE_SOURCES / "package-lock.json"]
    stamp = hashlib.sha256(b"".join(p.read_bytes() for p in manifest)).hexdigest()
    stamp_file = NODE_CACHE / ".installed"
    installed = stamp_file.read_text() if stamp_file.is_file() else ""
    if installed != stamp or not (NODE_CACHE / "node_modules").is_dir():
        for source in manifest:
            shutil.copy2(source, NODE_CACHE / source.name)
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_CACHE,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"npm ci in {NODE_CACHE} failed:\n{result.stdout}\n{result.stderr}")
        stamp_file.write_text(stamp)
    for script in NODE_SOURCES.glob("*.mjs"):
        shutil.copy2(script, NODE_CACHE / script.name)
    return NODE_CACHE


def run_node_tool(node_tools: Path, script: str, *args: str) -> dict[str, Any]:
    """Run one of our Node scripts from `node_tools` and return the JSON report it prints."""
    result = subprocess.run(
        ["node", str(node_tools / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{script} failed:\n{result.stderr[-3000:]}"
    return dict(json.loads(result.stdout))
