"""The generated docs: a page per operation and event, deterministic, equal to the goldens."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2
import pytest

from apollospace_docs import render_site
from apollospace_docs.render import environment, golden_files
from apollospace_docs.view_model import DocsSite
from tests.docs import pages

GOLDEN = Path(__file__).parent / "golden"


def test_page_count_is_operations_plus_events_plus_index(files: dict[str, str]) -> None:
    """One MDX page and one Markdown twin per operation, per event, plus the index and the
    four guides (getting a token, error codes, changelog, conformance)."""
    expected = len(pages.spec_operations()) + 5
    mdx = [name for name in files if name.endswith(".mdx")]
    markdown = [name for name in files if name.endswith(".md")]
    assert len(mdx) == expected
    assert len(markdown) == expected
    assert {n.removeprefix("mintlify/").removesuffix(".mdx") for n in mdx} == {
        n.removeprefix("markdown/").removesuffix(".md") for n in markdown
    }


def test_every_operation_has_exactly_one_page(files: dict[str, str]) -> None:
    """Every operation and event of the spec is documented by one MDX page, and no page by two."""
    assert pages.missing_pages(files) == []
    documented = pages.pages_by_operation(files)
    assert {op: names for op, names in documented.items() if len(names) > 1} == {}
    assert set(documented) == set(pages.spec_operations())


def test_a_missing_page_is_caught(files: dict[str, str]) -> None:
    """The page check names an operation whose page is gone (the check is not vacuous)."""
    victim = next(name for name in files if name.endswith("/create-lead.mdx"))
    assert pages.missing_pages({k: v for k, v in files.items() if k != victim}) == ["createLead"]


def test_navigation_lists_every_page(site: DocsSite, files: dict[str, str]) -> None:
    """docs.json lists every MDX page once, and llms.txt links every Markdown page."""
    navigation = json.loads(files["mintlify/docs.json"])["navigation"]["languages"][0]["tabs"][0][
        "groups"
    ]
    listed = [slug for group in navigation for slug in group["pages"]]
    assert sorted(listed) == sorted(
        n.removeprefix("mintlify/").removesuffix(".mdx") for n in files if n.endswith(".mdx")
    )
    llms = files["mintlify/llms.txt"]
    assert llms.startswith(f"# {site.api_title}\n\n> ")
    for page in site.pages:
        assert f"]({page.ref.markdown_url})" in llms


def test_llms_full_is_every_markdown_page(site: DocsSite, files: dict[str, str]) -> None:
    """llms-full.txt holds every Markdown page, in navigation order, each with its source URL."""
    full = files["mintlify/llms-full.txt"]
    position = 0
    for page in site.pages:
        markdown = files[f"markdown/{page.ref.slug}.md"]
        title, rest = markdown.split("\n", 1)
        expected = f"{title}\nSource: {page.ref.markdown_url}\n{rest}"
        found = full.find(expected, position)
        assert found >= position, f"{page.ref.slug} is missing from llms-full.txt or out of order"
        position = found + len(expected)


def test_output_matches_the_golden_copies(files: dict[str, str]) -> None:
    """The rendered docs equal tests/docs/golden byte for byte (`make docs-golden`)."""
    golden = {
        str(p.relative_to(GOLDEN)): p.read_text("utf-8") for p in GOLDEN.rglob("*") if p.is_file()
    }
    rendered = golden_files(files)
    assert sorted(golden) == sorted(rendered), (
        "the set of generated files changed: run `make docs-golden`"
    )
    drifted = [name for name in rendered if rendered[name] != golden[name]]
    assert drifted == [], (
        f"docs differ from the golden copies (`make docs-golden` if intended): {drifted}"
    )


def test_rendering_is_deterministic_across_processes(tmp_path: Path) -> None:
    """Two builds in processes with different hash seeds write the same bytes, preview too."""
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"run{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [sys.executable, "-m", "apollospace_docs.cli", "build", "--out", str(out)],
            env=env,
            check=True,
            capture_output=True,
        )
        outputs.append(
            {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
        )
    assert outputs[0] == outputs[1]
    assert any(name.startswith("preview/") for name in outputs[0])


def test_rendering_twice_gives_the_same_files(site: DocsSite, files: dict[str, str]) -> None:
    """Rendering the same view model again changes nothing."""
    assert render_site(site) == files


CONFORMANCE_WORDS = ("/req/", "requirements.yaml", "x-apollospace")
CONFORMANCE_PAGES = (
    "mintlify/en/api-reference/conformance.mdx",
    "markdown/en/api-reference/conformance.md",
)


def conformance_leaks(files: dict[str, str]) -> list[str]:
    """`page: word` for every page but Conformance's (MDX, its Markdown twin, llms.txt) that
    holds a requirement ID or the kit's vocabulary, comments and code included."""
    return [
        f"{name}: {word}"
        for name, text in sorted(files.items())
        if name.endswith((".mdx", ".md", "llms.txt")) and name not in CONFORMANCE_PAGES
        for word in CONFORMANCE_WORDS
        if word in text
    ]


def test_only_the_conformance_page_holds_conformance_material(files: dict[str, str]) -> None:
    """Requirement IDs, requirements.yaml and the `x-apollospace-*` keys live on the
    Conformance page only: every other page and twin (index and guides too) is free of them."""
    assert conformance_leaks(files) == []
    for name in CONFORMANCE_PAGES:
        assert "/req/" in files[name], name


def test_a_conformance_leak_is_caught(files: dict[str, str]) -> None:
    """The leak check names a page whose prose mentions a kit key (it is not vacuous)."""
    page = "markdown/en/api-reference/introduction.md"
    leaked = {page: files[page] + "\nLimits are in `x-apollospace-limits`.\n"}
    assert conformance_leaks(leaked) == [f"{page}: x-apollospace"]


def test_the_conformance_page_lists_every_requirement(files: dict[str, str]) -> None:
    """Every requirement of the catalog appears on the Conformance page, in both flavors."""
    from apollospace_spec import load_catalog

    for name in (
        "mintlify/en/api-reference/conformance.mdx",
        "markdown/en/api-reference/conformance.md",
    ):
        missing = [r for r in load_catalog().requirements if f"`{r}`" not in files[name]]
        assert missing == [], f"{name} misses {missing}"


def test_no_page_repeats_its_description(site: DocsSite, files: dict[str, str]) -> None:
    """The summary (frontmatter / blockquote) is not repeated as the first paragraph."""
    for page in site.pages:
        markdown = files[f"markdown/{page.ref.slug}.md"]
        body = markdown.split("\n\n", 2)[2]
        assert page.summary.strip() not in body.split("\n## ", 1)[0], page.ref.slug


def test_markdown_twins_escape_angle_types(files: dict[str, str]) -> None:
    """`string<uuid>` is in a code span, never bare (CommonMark would drop `<uuid>` as HTML)."""
    for name, text in files.items():
        if name.endswith(".md"):
            bare = re.findall(r"(?<!`)\b\w+<[a-z-]+>", pages.strip_code(text))
            assert bare == [], f"{name}: {bare[:3]}"


def test_json_literals_are_json(files: dict[str, str]) -> None:
    """Defaults and constants print as JSON, never as a Python repr (`['a']`, `True`)."""
    for name, text in files.items():
        if name.endswith((".md", ".mdx")):
            assert not re.search(r"`\[\'", text), name
            assert "Default: `True`" not in text and "Default: `False`" not in text, name


def test_destructive_and_billable_operations_warn(site: DocsSite, files: dict[str, str]) -> None:
    """DELETE, rotate and Stars-spending operations carry a `<Warning>` callout."""
    for page in site.endpoints:
        mdx = files[f"mintlify/{page.ref.slug}.mdx"]
        must = (
            page.method == "DELETE" or "rotate" in page.operation_id.lower() or page.billable_retry
        )
        if must:
            assert "<Warning>" in mdx, page.operation_id


def test_every_operation_shows_three_languages_and_v1(files: dict[str, str]) -> None:
    """cURL, Python and JavaScript in a CodeGroup; every URL has /v1; every POST a fresh key."""
    for name, text in files.items():
        if name.endswith(".mdx") and pages.operation_id(text) and "/webhook-events/" not in name:
            examples = pages.request_examples(text)
            assert set(examples) == {"bash", "python", "javascript"}, name
            assert all("/v1/" in body for body in examples.values()), name
            assert "$IDEMPOTENCY_KEY" not in examples["bash"], name


def test_rate_limit_numbers_come_from_the_spec(site: DocsSite, files: dict[str, str]) -> None:
    """Each operation page states its type's budget, as `x-apollospace-rate-limits` gives it."""
    from apollospace_spec import bundled_spec

    limits = bundled_spec()["x-apollospace-rate-limits"]["limits"]
    for page in site.endpoints:
        budget = limits[page.rate_class]
        text = files[f"markdown/{page.ref.slug}.md"].split("## Rate limit\n", 1)[1]
        expected = f"{budget['requests']} requests per {budget['window_seconds']} seconds"
        assert expected in text.split("\n## ", 1)[0], page.operation_id


def test_templates_fail_on_an_undefined_name() -> None:
    """The Jinja environment is strict: a missing attribute fails instead of printing nothing."""
    env = environment()
    assert env.undefined is jinja2.StrictUndefined
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ page.no_such_field }}").render(page=object())


def _walk(value: Any, where: str = "site") -> list[str]:
    """Every place of the view model holding a raw spec mapping or a non-view object."""
    problems: list[str] = []
    if dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            problems += _walk(getattr(value, field.name), f"{where}.{field.name}")
    elif isinstance(value, dict):
        if {"$ref", "properties", "responses", "schema", "paths"} & set(map(str, value)):
            problems.append(where)
        for key, item in value.items():
            problems += _walk(item, f"{where}[{key!r}]")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            problems += _walk(item, f"{where}[{index}]")
    elif not isinstance(value, str | int | float | bool | type(None)):
        problems.append(f"{where}: {type(value).__name__}")
    return problems


def test_templates_see_only_the_view_model(site: DocsSite) -> None:
    """The view model is dataclasses and plain values: no raw spec dict reaches a template."""
    assert _walk(site) == []


_COMPONENT_TAG = re.compile(
    r"</?(?:ParamField|ResponseField|Expandable|RequestExample|ResponseExample|CodeGroup|Info|Warning|CardGroup|Card)"
    r"(?:\s+[A-Za-z]+(?:=(?:\"[^\"]*\"|\{[^}]*\}))?)*\s*/?>"
)


def test_mdx_prose_has_no_stray_jsx(files: dict[str, str]) -> None:
    """Outside code and Mintlify components, every `{` and `<` of the spec's prose is escaped."""
    for name, text in files.items():
        if name.endswith(".mdx"):
            prose = _COMPONENT_TAG.sub("", pages.strip_code(text))
            stray = [line for line in prose.splitlines() if re.search(r"(?<!\\)[<{}]", line)]
            assert stray == [], f"{name}: unescaped JSX in prose: {stray[:3]}"
