"""The docs show a deprecation banner with both dates on a deprecated operation's page, and none elsewhere."""

from __future__ import annotations

from pathlib import Path

from apollospace_docs.render import render_site
from apollospace_docs.view_model import build_site
from apollospace_spec.bundle import bundle
from apollospace_spec.catalog import load_catalog
from tests.spec.compat.deprecated_spec import (
    ANNOUNCED,
    LINK,
    OPERATION_ID,
    SUNSET,
    deprecated_spec_dir,
)


def test_the_deprecated_operation_page_shows_both_dates(tmp_path: Path) -> None:
    """listPipelines, deprecated in the test spec: its page's banner names the announcement and the sunset; listLeads has none."""
    root = deprecated_spec_dir(tmp_path)
    site = build_site(bundle(root), load_catalog(root))
    pages = {page.operation_id: page for page in site.endpoints}
    banner = pages[OPERATION_ID].warning
    assert f"Deprecated since {ANNOUNCED}" in banner and f"sunset on {SUNSET}" in banner and LINK in banner, banner
    assert "Deprecated" not in pages["listLeads"].warning
    rendered = "\n".join(text for name, text in render_site(site).items() if OPERATION_ID.lower() in name.lower() or "pipelines" in name.lower())
    assert f"sunset on {SUNSET}" in rendered
