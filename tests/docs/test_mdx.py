"""Every MDX page compiles with @mdx-js/mdx, the compiler Mintlify builds on."""

from __future__ import annotations

from pathlib import Path

from tests.docs import pages
from tests.docs.conftest import run_node_tool


def _compile(node_tools: Path, folder: Path) -> dict[str, object]:
    return run_node_tool(node_tools, "mdx_compile.mjs", str(folder))


def test_every_mdx_page_compiles(node_tools: Path, built: Path) -> None:
    """@mdx-js/mdx 3 (with the frontmatter and GFM plugins) compiles every page without an error."""
    report = _compile(node_tools, built / "mintlify")
    assert report["errors"] == []
    assert report["compiled"] == len(pages.spec_operations()) + 5  # + index and 4 guides


def test_the_compiler_reports_a_broken_page(node_tools: Path, tmp_path: Path) -> None:
    """A page with an unclosed component or a stray brace is reported (the check is not vacuous)."""
    (tmp_path / "broken.mdx").write_text(
        '# Broken\n\n<ParamField body="x">\n\nno closing tag\n', "utf-8"
    )
    (tmp_path / "brace.mdx").write_text("# Brace\n\nA stray { brace.\n", "utf-8")
    report = _compile(node_tools, tmp_path)
    assert sorted(error["file"] for error in report["errors"]) == ["brace.mdx", "broken.mdx"]
