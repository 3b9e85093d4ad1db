"""Every MDX page compiles with @mdx-js/mdx, the compiler Mintlify builds on."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.docs import pages


def _compile(node_tools: Path, folder: Path) -> dict[str, object]:
    result = subprocess.run(
        ["node", str(node_tools / "mdx_compile.mjs"), str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"mdx_compile.mjs crashed:\n{result.stderr}"
    return dict(json.loads(result.stdout))


def test_every_mdx_page_compiles(node_tools: Path, built: Path) -> None:
    """@mdx-js/mdx 3 (with the frontmatter and GFM plugins) compiles every page without an error."""
    report = _compile(node_tools, built / "mintlify")
    assert report["errors"] == []
    assert report["compiled"] == len(pages.spec_operations()) + 1


def test_the_compiler_reports_a_broken_page(node_tools: Path, tmp_path: Path) -> None:
    """A page with an unclosed component or a stray brace is reported (the check is not vacuous)."""
    (tmp_path / "broken.mdx").write_text(
        '# Broken\n\n<ParamField body="x">\n\nno closing tag\n', "utf-8"
    )
    (tmp_path / "brace.mdx").write_text("# Brace\n\nA stray { brace.\n", "utf-8")
    report = _compile(node_tools, tmp_path)
    assert sorted(error["file"] for error in report["errors"]) == ["brace.mdx", "broken.mdx"]
