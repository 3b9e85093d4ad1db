"""The HTML certificate from test records (no server): escaped, self-contained, linked, with its pictures."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from apollospace_conformance.report import build_report, charts, environment, render_html
from apollospace_conformance.results import PASS
from apollospace_spec import load_catalog
from tests.conformance.test_report import CREATED, MARKUP, fake_run, sample_records

CATALOG = load_catalog()
HOSTILE = "<h1>INJECTED</h1><img src=x onerror=alert(1)><script>alert(1)</script>"


class Page(HTMLParser):
    """What a browser would build from the certificate: elements, ids, links, the text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def ids(self) -> set[str]:
        return {str(attrs["id"]) for _, attrs in self.tags if attrs.get("id")}

    def links(self) -> list[str]:
        return [str(attrs["href"]) for tag, attrs in self.tags if tag in ("a", "link") and attrs.get("href")]


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return build_report(fake_run(sample_records(), left=("/pipelines/p1", "/pipelines/p1/", "/pipelines/p1/stages/s1", "/pipelines/p1/stages/s2")))


@pytest.fixture(scope="module")
def page(report: dict[str, Any]) -> Page:
    return Page(render_html(report))


def test_every_template_is_autoescaped_whatever_its_name() -> None:
    """select_autoescape matched names ending in .html, not certificate.html.jinja: escaping no longer depends on the name."""
    env = environment(html=True)
    assert env.autoescape is True
    assert env.from_string("{{ x }}").render(x=HOSTILE) == HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_text_a_server_sent_is_shown_as_text_wherever_it_lands(report: dict[str, Any]) -> None:
    """Markup in a received body, a reason, a problem, a test id, an evidence sample and the target: text, never elements."""
    hostile = copy.deepcopy(report)
    hostile["provenance"]["target"] = f"http://x/v1{HOSTILE}"
    hostile["problems"].append(f"{CREATED} FAIL: {HOSTILE}")
    for requirement in hostile["requirements"]:
        requirement["statement"] = f"Send `Authorization: Bearer <token>`. {HOSTILE}"
        requirement["reason"] += HOSTILE
        requirement["samples"] = [f"GET /v1/leads{HOSTILE} -> 200"]
        for failure in requirement["failures"]:
            failure.update(received=HOSTILE, reproduction=f"curl {HOSTILE}", test=HOSTILE)
    html = render_html(hostile)
    parsed = Page(html)
    assert not [tag for tag, _ in parsed.tags if tag in ("script", "img", "h1") and tag != "h1"]
    assert [tag for tag, _ in parsed.tags].count("h1") == 1  # the certificate's own title
    assert not [attrs for _, attrs in parsed.tags if any(name.startswith("on") for name in attrs)]
    assert "<script" not in html.lower() and HOSTILE not in html
    assert HOSTILE in "".join(parsed.text)  # shown, as text
    assert "<code>Authorization: Bearer &lt;token&gt;</code>" in html  # a statement's `code` stays code, its <token> text


def test_the_certificate_needs_no_network(page: Page) -> None:
    """No script, no external stylesheet, image or font: links are anchors in the page, or the data: icon."""
    assert not [tag for tag, _ in page.tags if tag in ("script", "img", "iframe", "object")]
    sources = [value for _, attrs in page.tags for name, value in attrs.items() if name in ("src", "href") and value]
    assert all(value.startswith(("#", "data:")) for value in sources), sources


def test_every_anchor_resolves_and_each_judged_requirement_links_to_its_details(report: dict[str, Any], page: Page) -> None:
    """Requirements of claimed classes link to a section with their failures and evidence; every #link has its target."""
    ids = page.ids()
    assert [link for link in page.links() if link.startswith("#") and link[1:] not in ids] == []
    linked = {link[1:] for link in page.links() if link.startswith("#req-")}
    claimed = [r for r in report["requirements"] if r["klass"] in report["claimed_classes"]]
    assert {r["id"].strip("/").replace("/", "-") for r in claimed} <= linked
    html = render_html(report)
    section = html[html.index('id="req-status-codes-created-201"'):]
    section = section[:section.index("</section>")]
    assert "Expected:" in section and MARKUP.replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;") in section
    walk = html[html.index('id="req-pagination-complete-walk"'):]
    assert f'href="#{CREATED.strip("/").replace("/", "-")}"' in walk[:walk.index("</section>")]  # blocked by: a link to what broke first


def test_a_verdict_badge_and_a_stacked_bar_per_class(report: dict[str, Any], page: Page) -> None:
    badges = [attrs.get("class", "") for tag, attrs in page.tags if tag == "span" and "verdict" in str(attrs.get("class", ""))]
    assert badges == [f"badge verdict {report['verdict']}"]
    for klass in report["classes"]:
        rows = [r for r in report["requirements"] if r["klass"] == klass]
        bar = charts.class_bar(rows, tuple(charts.COLORS))
        assert sum(s.width for s in bar) == pytest.approx(charts.BAR_WIDTH, abs=0.05)
        assert sorted(s.label for s in bar) == sorted(f"{sum(r['status'] == status for r in rows)} {status}" for status in charts.COLORS
                                                       if any(r["status"] == status for r in rows))
    html = render_html(report)
    assert html.count('aria-label="status-codes: ') == 1 and "1 FAIL" in html


def test_the_timeline_draws_every_test_and_the_run_phases(report: dict[str, Any]) -> None:
    drawn = charts.timeline(report)
    bars = [bar for module, row in drawn.rows if module != "(the run)" for bar in row]
    assert len(bars) == len(report["tests"])
    assert sorted(bar.label.rsplit(": ", 1)[0] for bar in bars) == sorted(t["nodeid"] for t in report["tests"])
    assert all(0 <= bar.x <= charts.TIMELINE_WIDTH + 0.01 for bar in bars)
    assert drawn.rows[0][0] == "(the run)" and drawn.ticks[0] == (0, "0 s")
    html = render_html(report)
    assert html.count("<title>test_") == len(report["tests"])


def test_left_on_the_target_is_listed_once(report: dict[str, Any]) -> None:
    html = render_html(report)
    listed = html[html.index("Left on the target"):]
    assert listed.count("<code>/pipelines/p1</code>") == 1 and "with 2 nested resource(s)" in listed


def test_a_class_is_never_pass_when_one_of_its_musts_did_not_pass() -> None:
    """Whatever the statuses, a PASS class has every MUST checked over HTTP passed; the certificate shows the class status."""
    statuses = ["PASS", "FAIL", "NOT EXERCISED", "BLOCKED", "SKIP"]
    report = build_report(fake_run(sample_records()))
    for shift in range(len(statuses)):
        mixed = copy.deepcopy(report)
        for i, requirement in enumerate(mixed["requirements"]):
            requirement["status"] = PASS if i % 7 else statuses[(i + shift) % len(statuses)]
        from apollospace_conformance.results import RequirementResult, class_status

        results = [RequirementResult(**{k: v for k, v in r.items()}) for r in mixed["requirements"]]
        for klass, status in class_status(results, set(CATALOG.classes), CATALOG).items():
            musts = [r for r in results if r.klass == klass and CATALOG[r.id].is_must and "http" in CATALOG[r.id].verified_by]
            assert (status == "PASS") == all(r.status == PASS for r in musts), klass


def test_class_rows_count_each_status(report: dict[str, Any]) -> None:
    html = render_html(report)
    row = re.search(r'<tr><td><a href="#class-status-codes">status-codes</a></td>.*?</tr>', html, re.S)
    assert row is not None
    counts = [int(n) for n in re.findall(r'<td class="n">(\d+)</td>', row.group())]
    rows = [r for r in report["requirements"] if r["klass"] == "status-codes"]
    assert counts == [sum(r["status"] == s for r in rows) for s in ("PASS", "FAIL", "NOT EXERCISED", "BLOCKED", "SKIP")]
