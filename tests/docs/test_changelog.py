"""The Changelog page: every release and the unreleased changes, classified by the compat gate."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from apollospace_docs.changelog import release_history
from apollospace_docs.render import render_site
from apollospace_docs.view_model import DocsSite, build_site
from apollospace_spec.bundle import bundle
from apollospace_spec.catalog import load_catalog
from apollospace_spec.compat.load import latest_release
from apollospace_spec.locate import spec_root
from tests.docs import pages
from tests.docs.conftest import run_node_tool
from tests.spec.compat.deprecated_spec import OPERATION_ID, SUNSET, deprecated_spec_dir

REMOVED = "getRunTrace (GET /runs/{run_id}/trace)"
REMOVED_PATH = "/runs/{run_id}/trace"
MDX = "mintlify/en/api-reference/changelog.mdx"
MARKDOWN = "markdown/en/api-reference/changelog.md"


def _changed_spec(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A copy of spec/ with its releases, in which listPipelines is deprecated (an unreleased,
    compatible change), and its bundled document, edited through the library API: `Lead`
    loses `website` and getRunTrace is removed (breaking), and `AgentPersona` gains a value with markup characters."""
    root = deprecated_spec_dir(tmp_path)
    shutil.copytree(spec_root() / "releases", root / "releases")
    document = bundle(root)
    lead = document["components"]["schemas"]["Lead"]
    del lead["properties"]["website"]
    lead["required"].remove("website")
    document["components"]["schemas"]["AgentPersona"]["enum"].append("<b>{coach}</b>")
    del document["paths"][REMOVED_PATH]
    return root, document


def test_the_changelog_page_lists_every_release(site: DocsSite, files: dict[str, str]) -> None:
    """Navigation, llms.txt, MDX and twin: the page names the latest release, and the current
    contract has nothing unreleased."""
    latest = latest_release()
    assert latest is not None
    assert site.changelog.ref in site.navigation[0].pages
    assert f"]({site.changelog.ref.markdown_url})" in files["mintlify/llms.txt"]
    for name in (MDX, MARKDOWN):
        assert f"\n## v{latest}\n" in files[name], name
        assert "## Unreleased" not in files[name], name
        assert f"exactly v{latest}: nothing is unreleased" in files[name], name
    assert [r.title for r in site.changelog.releases][0] == f"v{latest}"


def test_an_unreleased_change_appears(tmp_path: Path) -> None:
    """A spec that differs from the latest release shows its changes under "Unreleased", above
    the release, in the gate's sections: the deprecation and the breaking removal."""
    root, document = _changed_spec(tmp_path)
    releases = release_history(document, root)
    assert [r.title for r in releases] == ["Unreleased", f"v{latest_release(root)}"]
    unreleased = releases[0]
    headings = [s.heading for s in unreleased.sections]
    assert headings[:2] == ["Breaking changes", "Deprecations"], headings
    assert any(
        OPERATION_ID in name
        for s in unreleased.sections[1:2]
        for i in s.items
        for name in i.operations
    )
    files = render_site(build_site(document, load_catalog(root), releases))
    for name in (MDX, MARKDOWN):
        text = files[name]
        assert text.index("## Unreleased") < text.index(f"## v{latest_release(root)}"), name
        assert "### Breaking changes" in text and "### Deprecations" in text, name
        # Operations that still exist link to their page; a removed one is named only.
        assert f"[`{OPERATION_ID} (GET /pipelines)`](/en/api-reference/pipelines/" in text, name
        assert f"\n* `{REMOVED}`: removed without a deprecation" in text, name
        listed = text.split("## Unreleased", 1)[1].split("\n## ", 1)[0]
        items = sum(len(s.items) for s in unreleased.sections)
        assert listed.count("\n* ") == items, name  # one bullet per line
        assert "nothing is unreleased" not in text, name
    assert str(SUNSET) in json.dumps(document)  # the fixture really deprecates it


def test_the_changelog_is_escaped_and_compiles(tmp_path: Path, node_tools: Path) -> None:
    """With changes listed, the MDX prose has no stray JSX and compiles with @mdx-js/mdx; the
    Markdown twin has no bare `<...>`; rendering twice gives the same bytes."""
    root, document = _changed_spec(tmp_path / "spec-copy")
    site = build_site(document, load_catalog(root), release_history(document, root))
    files = render_site(site)
    assert (
        render_site(build_site(document, load_catalog(root), release_history(document, root)))
        == files
    )
    prose = pages.strip_code(files[MDX])
    assert [line for line in prose.splitlines() if re.search(r"(?<!\\)[<{}]", line)] == []
    assert re.findall(r"(?<![`\\])<[a-z]", pages.strip_code(files[MARKDOWN])) == []
    folder = tmp_path / "mdx"
    folder.mkdir()
    (folder / "changelog.mdx").write_text(files[MDX], "utf-8")
    report = run_node_tool(node_tools, "mdx_compile.mjs", str(folder))
    assert report["errors"] == [] and report["compiled"] == 1, report
