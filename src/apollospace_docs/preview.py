"""A standalone HTML preview of the docs: the Markdown twins rendered into one static site.

The preview shows the same pages as the MDX output (it renders their Markdown
twins), with a navigation sidebar, tables and code blocks, and works with no
network: inline CSS, no script, no font or image, internal links made relative
so the folder can be opened from disk or served by any static server.
"""

from __future__ import annotations

import posixpath
import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from apollospace_docs.render import MARKDOWN, PREVIEW, environment
from apollospace_docs.text import anchor
from apollospace_docs.view_model import DocsSite, PageRef

_INTERNAL = re.compile(r"^/(?P<slug>[^#?]+)\.md(?P<fragment>#.*)?$")


def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")


def _relative(from_slug: str, to_slug: str) -> str:
    """The relative URL of page `to_slug`'s HTML file from page `from_slug`'s."""
    return posixpath.relpath(f"{to_slug}.html", posixpath.dirname(from_slug) or ".")


def _rewrite(tokens: list[Token], slug: str) -> None:
    """Heading ids (as Mintlify makes them) and internal `.md` links made relative `.html` links."""
    seen: dict[str, int] = {}
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            text = tokens[index + 1].content
            base = anchor(text)
            count = seen.get(base, 0)
            seen[base] = count + 1
            token.attrSet("id", base if count == 0 else f"{base}-{count}")
        for child in token.children or []:
            if child.type != "link_open":
                continue
            href = str(child.attrGet("href") or "")
            found = _INTERNAL.match(href)
            if found:
                child.attrSet("href", _relative(slug, found["slug"]) + (found["fragment"] or ""))
            elif href.startswith(("http://", "https://")):
                child.attrSet("rel", "noopener")


def page_html(markdown_text: str, slug: str) -> str:
    """The body HTML of one Markdown twin (its H1 and summary included)."""
    md = _markdown()
    tokens = md.parse(markdown_text)
    _rewrite(tokens, slug)
    return str(md.renderer.render(tokens, md.options, {}))


def render_preview(site: DocsSite, files: dict[str, str]) -> dict[str, str]:
    """Every preview file: `preview/<slug>.html` per page and `preview/index.html`."""
    env = environment()
    template = env.get_template("preview/page.html.jinja")
    out: dict[str, str] = {}
    for page in site.pages:
        slug = page.ref.slug
        body = page_html(files[f"{MARKDOWN}/{slug}.md"], slug)

        def href(ref: PageRef, _from: str = slug) -> str:
            return _relative(_from, ref.slug)

        out[f"{PREVIEW}/{slug}.html"] = template.render(site=site, page=page, body=body, href=href)
    out[f"{PREVIEW}/index.html"] = env.get_template("preview/index.html.jinja").render(
        site=site, target=f"{site.index.ref.slug}.html"
    )
    return dict(sorted(out.items()))


__all__ = ["page_html", "render_preview"]
