"""A standalone HTML preview of the docs: the Markdown twins rendered into one static site.

The preview shows the same pages as the MDX output (it renders their Markdown
twins), with a navigation sidebar, tables, code blocks highlighted by Pygments,
copy buttons and a client-side search, and works with no network: inline CSS,
two small local scripts (`preview.js`, `search-index.js`, a `<script>` rather
than a fetch so the folder also works opened from disk), no font or image,
internal links made relative so any static server can serve it.
"""

from __future__ import annotations

import html
import json
import posixpath
import re

from markdown_it import MarkdownIt
from markdown_it.token import Token
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from apollospace_docs.render import MARKDOWN, PREVIEW, environment
from apollospace_docs.text import anchor
from apollospace_docs.view_model import DocsSite, PageRef

_INTERNAL = re.compile(r"^/(?P<slug>[^#?]+)\.md(?P<fragment>#.*)?$")


PYGMENTS_STYLE = "github-dark"
_LEXERS = {
    "bash": "bash",
    "python": "python",
    "javascript": "javascript",
    "json": "json",
    "http": "http",
    "text": "text",
}


def _highlight(code: str, language: str, _attrs: object) -> str:
    """A code block highlighted by Pygments (`<pre class="highlight">`); unknown: escaped."""
    try:
        lexer = get_lexer_by_name(_LEXERS.get(language, language or "text"))
    except ClassNotFound:
        return ""
    inner = highlight(code, lexer, HtmlFormatter(nowrap=True))
    return f'<pre class="highlight"><code class="language-{html.escape(language)}">{inner}</code></pre>\n'


def pygments_css() -> str:
    return str(HtmlFormatter(style=PYGMENTS_STYLE).get_style_defs(".highlight"))


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False, "highlight": _highlight})
    return md.enable("table")


def search_entry(markdown_text: str, slug: str, title: str) -> dict[str, str]:
    """What the search matches for one page: title, headings and text without code."""
    text = re.sub(r"```.*?```", " ", markdown_text, flags=re.DOTALL)
    headings = " ".join(re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE))
    words = " ".join(re.sub(r"[`*|>#\[\]()]", " ", text).split())
    return {"title": title, "url": f"{slug}.html", "headings": headings, "text": words[:6000]}


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
    index = []
    css = pygments_css()
    for page in site.pages:
        slug = page.ref.slug
        markdown_text = files[f"{MARKDOWN}/{slug}.md"]
        body = page_html(markdown_text, slug)
        index.append(search_entry(markdown_text, slug, page.title))

        def href(ref: PageRef, _from: str = slug) -> str:
            return _relative(_from, ref.slug)

        root = posixpath.relpath(".", posixpath.dirname(slug) or ".") + "/"
        out[f"{PREVIEW}/{slug}.html"] = template.render(
            site=site, page=page, body=body, href=href, root=root, pygments_css=css
        )
    out[f"{PREVIEW}/search-index.js"] = (
        "window.SEARCH_INDEX = " + json.dumps(index, ensure_ascii=False, indent=0) + ";\n"
    )
    out[f"{PREVIEW}/preview.js"] = env.get_template("preview/preview.js.jinja").render()
    out[f"{PREVIEW}/index.html"] = env.get_template("preview/index.html.jinja").render(
        site=site, target=f"{site.index.ref.slug}.html"
    )
    return dict(sorted(out.items()))


__all__ = ["page_html", "render_preview"]
