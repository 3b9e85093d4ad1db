"""Render the view model through the Jinja templates of `generators/` into output files.

`render_site` returns every file as `{relative path: text}`: nothing is read
from the clock or the environment, and every collection is in spec order, so
the same spec always gives the same bytes.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from apollospace_docs.text import (
    anchor,
    jsx_attr,
    markdown_escape,
    mdx_escape,
    one_line,
    table_cell,
    yaml_string,
)
from apollospace_docs.view_model import DocsSite

_PACKAGED = Path(__file__).parent / "generators"
_REPOSITORY = Path(__file__).resolve().parents[2] / "generators"
# The folders of the output that `write_site` owns (and empties first, so no stale page survives).
MINTLIFY, MARKDOWN, PREVIEW = "mintlify", "markdown", "preview"
# Not kept as golden copies: the concatenation of the Markdown pages (tested against them instead).
NOT_GOLDEN = (f"{MINTLIFY}/llms-full.txt",)


def golden_files(files: dict[str, str]) -> dict[str, str]:
    """The files kept as golden copies: all but the preview and NOT_GOLDEN."""
    return {
        name: text
        for name, text in files.items()
        if name not in NOT_GOLDEN and not name.startswith(PREVIEW)
    }


def templates_root() -> Path:
    """The templates: packaged beside this module (wheel), else the repository's."""
    return _PACKAGED if (_PACKAGED / "_macros.jinja").is_file() else _REPOSITORY


_ROUTE = re.compile(r"\]\((/en/[^)#\s]+?)(#[^)\s]*)?\)")


@pass_context
def _prose(context: Context, text: str) -> str:
    """Spec prose in the page's flavor: escaped for MDX; for Markdown, internal links point
    to the Markdown twins (`/en/.../get-lead.md`)."""
    if context.get("flavor") == "mdx":
        return mdx_escape(text)
    return _ROUTE.sub(lambda m: f"]({m[1]}.md{m[2] or ''})", text)


@pass_context
def _text(context: Context, text: str) -> str:
    """Generated plain text (not spec prose), escaped for the page's flavor: a changelog
    reason like `gains value(s) <x>` is neither JSX in MDX nor HTML in Markdown."""
    return mdx_escape(text) if context.get("flavor") == "mdx" else markdown_escape(text)


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates_root())),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=select_autoescape(
            enabled_extensions=("html.jinja",), default_for_string=False, default=False
        ),
    )
    env.filters.update(
        prose=_prose,
        text=_text,
        mdx=mdx_escape,
        one_line=one_line,
        cell=table_cell,
        yaml=yaml_string,
        jsx_attr=jsx_attr,
        anchor=anchor,
    )
    return env


def tidy(text: str) -> str:
    """Outside code fences: no trailing spaces, no double blank line; one final newline."""
    out: list[str] = []
    in_fence = False
    for line in text.split("\n"):
        stripped = line.strip()
        if in_fence:
            out.append(line)
            in_fence = stripped != "```"
            continue
        in_fence = stripped.startswith("```")
        line = line.rstrip()
        if not line and (not out or not out[-1]):
            continue
        if stripped.startswith("</") and out and not out[-1]:
            out.pop()  # no blank line before a closing JSX tag
        out.append(line)
    return "\n".join(out).strip("\n") + "\n"


FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<circle cx="16" cy="16" r="15" fill="#5b3fd9"/>'
    '<path d="M16 6 9 26h4l3-9 3 9h4z" fill="#fff"/></svg>\n'
)


def docs_json(site: DocsSite) -> str:
    """A complete Mintlify `docs.json`: identity, theme, colors, navigation, API settings.

    The event pages are declared the way Mintlify documents webhooks (`openapi:
    webhook <name>` in their frontmatter), resolved against the bundled spec
    written beside this file (`openapi.json`).
    """
    config = {
        "$schema": "https://mintlify.com/docs.json",
        "theme": "mint",
        "name": f"{site.api_title} Reference",
        "description": site.summary,
        "colors": {"primary": "#5B3FD9", "light": "#8B74F0", "dark": "#3F2AA6"},
        "favicon": "/favicon.svg",
        "api": {
            "openapi": "/openapi.json",
            "mdx": {"server": site.index.conventions.server_url, "auth": {"method": "bearer"}},
            "examples": {"languages": ["curl", "python", "javascript"]},
        },
        "navigation": {
            "languages": [
                {
                    "language": "en",
                    "tabs": [
                        {
                            "tab": "API Reference",
                            "groups": [
                                {"group": g.name, "pages": [ref.slug for ref in g.pages]}
                                for g in site.navigation
                            ],
                        }
                    ],
                }
            ]
        },
        "footer": {"socials": {"website": site.docs_url}},
        "seo": {"indexing": "navigable"},
    }
    return json.dumps(config, indent=2, ensure_ascii=False) + "\n"


def openapi_json() -> str:
    """The bundled spec Mintlify resolves the webhook pages against."""
    from apollospace_spec import bundled_spec

    return json.dumps(bundled_spec(), indent=2, ensure_ascii=False) + "\n"


def render_site(site: DocsSite) -> dict[str, str]:
    """Every output but the preview: MDX, Markdown twins, docs.json, llms(-full).txt."""
    env = environment()
    files: dict[str, str] = {}
    documents: list[tuple[Any, str]] = []
    for page in site.pages:
        context = {"site": site, "page": page}
        mdx = env.get_template(f"{page.kind}.mdx.jinja").render(flavor="mdx", **context)
        markdown = tidy(env.get_template(f"{page.kind}.md.jinja").render(flavor="md", **context))
        files[f"{MINTLIFY}/{page.ref.slug}.mdx"] = tidy(mdx)
        files[f"{MARKDOWN}/{page.ref.slug}.md"] = markdown
        documents.append((page.ref, markdown))
    files[f"{MINTLIFY}/docs.json"] = docs_json(site)
    files[f"{MINTLIFY}/favicon.svg"] = FAVICON
    files[f"{MINTLIFY}/openapi.json"] = openapi_json()
    files[f"{MINTLIFY}/llms.txt"] = tidy(env.get_template("llms.txt.jinja").render(site=site))
    files[f"{MINTLIFY}/llms-full.txt"] = tidy(
        env.get_template("llms-full.txt.jinja").render(site=site, documents=documents)
    )
    return dict(sorted(files.items()))


def write_site(out: Path, files: dict[str, str]) -> list[Path]:
    """Write `files` under `out`, replacing the folders they belong to; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    for top in sorted({name.split("/", 1)[0] for name in files}):
        target = out / top
        if target.is_dir():
            shutil.rmtree(target)
    written = []
    for name, text in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written


__all__ = [
    "MARKDOWN",
    "MINTLIFY",
    "NOT_GOLDEN",
    "PREVIEW",
    "environment",
    "golden_files",
    "render_site",
    "templates_root",
    "tidy",
    "write_site",
]
