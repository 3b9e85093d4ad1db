"""Small text helpers shared by the view model and the templates (Jinja filters)."""

from __future__ import annotations

import json
import re
from typing import Any

_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_MDX_SPECIAL = re.compile(r"([{}<>])")


def kebab(name: str) -> str:
    """`createLeadImport` -> `create-lead-import`; `lead.created` -> `lead-created`."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name)
    return re.sub(r"[^a-z0-9]+", "-", spaced.lower()).strip("-")


def anchor(heading: str) -> str:
    """A heading's anchor, as Mintlify makes it: `Common error codes` -> `common-error-codes`."""
    plain = re.sub(r"[`*_]", "", heading).lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def mdx_escape(text: str) -> str:
    """Prose safe for MDX: `{ } < >` outside code spans backslash-escaped (no JSX)."""
    out: list[str] = []
    last = 0
    for match in _CODE_SPAN.finditer(text):
        out.append(_MDX_SPECIAL.sub(r"\\\1", text[last : match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(_MDX_SPECIAL.sub(r"\\\1", text[last:]))
    return "".join(out)


_MARKDOWN_SPECIAL = re.compile(r"([<>*\\])")


def markdown_escape(text: str) -> str:
    """Plain text safe for CommonMark: `< > * \\` outside code spans backslash-escaped (no
    HTML tag, no emphasis)."""
    out: list[str] = []
    last = 0
    for match in _CODE_SPAN.finditer(text):
        out.append(_MARKDOWN_SPECIAL.sub(r"\\\1", text[last : match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(_MARKDOWN_SPECIAL.sub(r"\\\1", text[last:]))
    return "".join(out)


def one_line(text: str) -> str:
    """Paragraphs and line breaks folded into one line (for table cells and list items)."""
    return " ".join(text.split())


def table_cell(text: str) -> str:
    """One line, with pipes escaped, for a GFM table cell."""
    return one_line(text).replace("|", "\\|")


def first_sentence(text: str) -> str:
    """The first sentence of the first paragraph (a page's short description)."""
    paragraph = one_line(text.strip().split("\n\n")[0]) if text.strip() else ""
    match = re.search(r"(?<=[.!?])\s+(?=[A-Z`(])", paragraph)
    return paragraph[: match.start()] if match else paragraph


def after_first_sentence(text: str) -> str:
    """What follows the first sentence (a description without its specific start)."""
    flat = one_line(text)
    return flat[len(first_sentence(flat)) :].strip()


def after_summary(text: str) -> str:
    """The description without its first sentence (the page's summary, shown above it).

    A page shows the summary once (frontmatter or blockquote); its body starts with
    what follows, so no sentence is printed twice.
    """
    text = text.strip()
    if not text:
        return ""
    head, _, tail = text.partition("\n\n")
    first = first_sentence(head)
    flat = one_line(head)
    rest = flat[len(first) :].strip() if flat.startswith(first) else flat
    return "\n\n".join(p for p in (rest, tail.strip()) if p)


def indent(text: str, width: int = 2) -> str:
    """Every non-empty line indented by `width` spaces (children of a JSX component)."""
    pad = " " * width
    return "\n".join(pad + line if line.strip() else "" for line in text.splitlines())


def pretty_json(value: Any) -> str:
    """JSON as the docs show it: two-space indent, UTF-8 kept, key order kept."""
    return json.dumps(value, indent=2, ensure_ascii=False)


def yaml_string(value: str) -> str:
    """A double-quoted YAML scalar (JSON string syntax is valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def jsx_attr(value: str) -> str:
    """A JSX attribute value in double quotes; a value that holds a quote becomes an expression."""
    if '"' in value or "\n" in value:
        return "{" + json.dumps(value, ensure_ascii=False) + "}"
    return f'"{value}"'
