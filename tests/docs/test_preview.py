"""The HTML preview in a real headless Chromium: pages load cleanly, internal links resolve."""

from __future__ import annotations

import contextlib
import functools
import http.server
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from apollospace_docs.render import PREVIEW
from tests.docs.conftest import CHROMIUM, run_node_tool

pytestmark = pytest.mark.slow

SCREENSHOTS = (
    "en/api-reference/introduction.html",
    "en/api-reference/leads/create-lead.html#try-it",
    "en/api-reference/webhook-events/lead-created.html#verify-the-signature",
)
WIDTHS = (1280, 390)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002  the base class's name
        pass


@contextlib.contextmanager
def _served(folder: Path) -> Iterator[str]:
    """`folder` served by http.server on a free loopback port: its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def preview_url(built: Path) -> Iterator[str]:
    """build/docs/preview served by http.server on a free loopback port."""
    with _served(built / PREVIEW) as url:
        yield url


@pytest.fixture(scope="module")
def browser_report(
    node_tools: Path, built: Path, preview_url: str
) -> dict[str, list[dict[str, object]]]:
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    screenshots = built / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    for stale in screenshots.glob("*.png"):
        stale.unlink()  # only this run's photographs stay
    with tempfile.TemporaryDirectory(prefix="apollospace-docs-chromium-") as profile:
        return run_node_tool(
            node_tools,
            "browser_check.mjs",
            preview_url,
            str(CHROMIUM),
            profile,
            str(screenshots),
            *SCREENSHOTS,
        )


def test_every_preview_page_is_reached_and_loads(
    browser_report: dict[str, list[dict[str, object]]], built: Path
) -> None:
    """Following links from index.html reaches every page of the preview, each answered 200."""
    pages = {str(p.relative_to(built / PREVIEW)) for p in (built / PREVIEW).rglob("*.html")}
    landed = {str(visit["landed"]).lstrip("/") for visit in browser_report["visited"]}
    assert landed | {"index.html"} == pages
    assert [v for v in browser_report["visited"] if v["status"] != 200] == []


def test_no_console_error_nor_failed_request(
    browser_report: dict[str, list[dict[str, object]]],
) -> None:
    """No page logs an error or warning, throws, fails a request or fetches off the server."""
    assert browser_report["consoleErrors"] == []
    assert browser_report["pageErrors"] == []
    assert browser_report["failedRequests"] == []
    assert browser_report["externalRequests"] == []


def test_every_internal_link_resolves(browser_report: dict[str, list[dict[str, object]]]) -> None:
    """Every internal link leads to a page that exists, and every #anchor to an element of it."""
    assert browser_report["brokenLinks"] == []
    assert browser_report["missingAnchors"] == []


def test_screenshots_are_written(browser_report: dict[str, list[dict[str, object]]]) -> None:
    """A few pages are photographed into build/docs/screenshots for a human look."""
    files = [Path(str(path)) for path in browser_report["screenshots"]]
    assert len(files) == len(SCREENSHOTS) * len(WIDTHS)
    assert all(f.is_file() and f.stat().st_size > 10_000 for f in files)
    assert {f.stem.rsplit("-", 1)[1] for f in files} == {str(w) for w in WIDTHS}


def test_code_is_highlighted_and_copyable(
    browser_report: dict[str, list[dict[str, object]]],
) -> None:
    """Every code block has a copy button; Pygments coloured the code (token spans)."""
    for seen in browser_report["features"]:
        assert seen["copyButtons"] == seen["codeBlocks"], seen
        if seen["codeBlocks"]:
            assert int(str(seen["highlighted"])) > 0, seen


def test_layout_works_at_390px(browser_report: dict[str, list[dict[str, object]]]) -> None:
    """On a phone the content starts on the first screen (the menu is folded) and nothing
    scrolls sideways; on a desktop the sidebar stands beside the content."""
    for seen in browser_report["features"]:
        if seen["width"] == 390:
            assert int(str(seen["mainTop"])) < 120, seen
            assert int(str(seen["pageWidth"])) <= 390, f"scrolls sideways: {seen}"
        else:
            assert int(str(seen["navHeight"])) > 0, seen


def test_search_finds_pages(browser_report: dict[str, object]) -> None:
    """Typing in the search box lists matching pages; a result opens (200)."""
    search = browser_report["search"]
    assert isinstance(search, dict)
    assert search["hits"], "no result for 'webhook'"
    assert search["opened"] == 200


def test_the_browser_check_catches_a_broken_site(node_tools: Path, tmp_path: Path) -> None:
    """On a site with a dead link, a missing anchor and a script error, each problem is reported."""
    if not CHROMIUM.is_file():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)"
        )
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        '<!doctype html><html><head><link rel="icon" href="data:,"><title>x</title></head><body>'
        '<a href="gone.html">dead</a> <a href="index.html#nowhere">anchor</a>'
        '<script>console.error("boom")</script></body></html>',
        "utf-8",
    )
    with _served(site) as url:
        report = run_node_tool(
            node_tools,
            "browser_check.mjs",
            url,
            str(CHROMIUM),
            str(tmp_path / "profile"),
            str(tmp_path),
        )
    assert [link["href"] for link in report["brokenLinks"]] == [f"{url}gone.html"]
    assert [a["anchor"] for a in report["missingAnchors"]] == ["nowhere"]
    assert any("boom" in str(e["text"]) for e in report["consoleErrors"])
