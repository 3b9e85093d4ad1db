"""docs.json passes Mintlify's own validator and Mintlify's link checker finds nothing broken.

Both are Mintlify's npm packages (`@mintlify/validation`, `@mintlify/link-rot`),
installed with the MDX compiler under the Node cache; both run offline (checked
under `unshare -n`: no network namespace, same results).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.docs.conftest import run_node_tool


def _check(node_tools: Path, folder: Path) -> dict[str, object]:
    return run_node_tool(node_tools, "mintlify_check.mjs", str(folder))


def test_docs_json_is_valid_and_no_link_is_broken(node_tools: Path, built: Path) -> None:
    """The generated site: a valid docs.json, no broken internal link."""
    report = _check(node_tools, built / "mintlify")
    assert report["config"] == {"success": True, "issues": []}
    assert report["brokenLinks"] == []


def test_docs_json_is_complete(files: dict[str, str]) -> None:
    """Not a fragment: the identity, theme and colors Mintlify requires, and the navigation."""
    config = json.loads(files["mintlify/docs.json"])
    assert {"name", "theme", "colors", "navigation", "favicon"} <= set(config)
    assert config["favicon"].lstrip("/") in {n.removeprefix("mintlify/") for n in files}


def test_the_checks_catch_a_broken_site(node_tools: Path, tmp_path: Path) -> None:
    """A docs.json without a theme and a page with a dead link are both reported."""
    site = tmp_path / "site"
    (site / "en").mkdir(parents=True)
    config = {
        "name": "Broken",
        "colors": {"primary": "#5B3FD9"},
        "navigation": {"groups": [{"group": "Pages", "pages": ["en/a", "en/b"]}]},
    }
    (site / "docs.json").write_text(json.dumps(config), "utf-8")
    (site / "en" / "a.mdx").write_text("---\ntitle: A\n---\n\n[fine](/en/b)\n", "utf-8")
    (site / "en" / "b.mdx").write_text(
        "---\ntitle: B\n---\n\n[dead](/en/api-reference/nowhere)\n", "utf-8"
    )
    report = _check(node_tools, site)
    assert report["config"]["success"] is False
    assert [b["link"] for b in report["brokenLinks"]] == ["/en/api-reference/nowhere"]
