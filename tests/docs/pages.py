"""Read back what a generated page shows: its operation, its cURL, its examples, its status."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from apollospace_spec import Operation, bundled_spec, iter_operations

_MARKER = re.compile(r"^\{/\* Generated from operation `(?P<id>[^`]+)`", re.MULTILINE)
_FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)\n```$", re.MULTILINE | re.DOTALL)
_SECTION = re.compile(
    r"<(?P<tag>RequestExample|ResponseExample|CodeGroup)>\n(?P<body>.*?)\n</(?P=tag)>", re.DOTALL
)
_RESPONSE_STATUS = re.compile(r"^## Response\n\n`(?P<status>\d{3}) [^`]*`:", re.MULTILINE)
VARIABLE = re.compile(r"\$(?P<name>[A-Z][A-Z0-9_]*)")


@dataclass(frozen=True)
class CodeBlock:
    language: str
    title: str
    body: str


def operation_id(mdx: str) -> str | None:
    """The operation a page documents (from its generated-file notice), None for the index."""
    found = _MARKER.search(mdx)
    return found["id"] if found else None


def blocks(mdx: str, section: str) -> list[CodeBlock]:
    """The code blocks inside `<RequestExample>` or `<ResponseExample>`."""
    found = [m for m in _SECTION.finditer(mdx) if m["tag"] == section]
    result = []
    for match in found:
        for fence in _FENCE.finditer(match["body"]):
            language, _, title = fence["info"].partition(" ")
            result.append(CodeBlock(language, title, fence["body"]))
    return result


def blocks_anywhere(text: str) -> list[CodeBlock]:
    """Every fenced code block of a page."""
    result = []
    for fence in _FENCE.finditer(text):
        language, _, title = fence["info"].partition(" ")
        result.append(CodeBlock(language, title, fence["body"]))
    return result


def request_examples(mdx: str) -> dict[str, str]:
    """The page's runnable examples, by language (bash, python, javascript), from the
    `<CodeGroup>` of its "Try it" section."""
    try_it = mdx.split("\n## Try it\n", 1)
    assert len(try_it) == 2, "the page has no `## Try it` section"
    found = [b for b in blocks(try_it[1], "CodeGroup")]
    return {b.language: b.body for b in found}


def curl_script(mdx: str) -> str:
    return request_examples(mdx)["bash"]


def documented_status(mdx: str) -> int:
    found = _RESPONSE_STATUS.search(mdx)
    assert found, "the page has no `## Response` section with a status"
    return int(found["status"])


def json_examples(mdx: str) -> list[tuple[str, Any]]:
    """(title, value) of every JSON response example; the title starts with the status."""
    return [
        (b.title, json.loads(b.body))
        for b in blocks(mdx, "ResponseExample")
        if b.language == "json"
    ]


def spec_operations() -> dict[str, Operation]:
    """Every operation and event of the spec, by operationId."""
    return {op.operation_id: op for op in iter_operations(bundled_spec(), events=True)}


def pages_by_operation(files: dict[str, str]) -> dict[str, list[str]]:
    """operationId -> the MDX files that document it."""
    found: dict[str, list[str]] = {}
    for name, text in files.items():
        if name.endswith(".mdx"):
            op = operation_id(text)
            if op:
                found.setdefault(op, []).append(name)
    return found


def missing_pages(files: dict[str, str]) -> list[str]:
    """The operations of the spec that no MDX page documents."""
    documented = pages_by_operation(files)
    return sorted(op for op in spec_operations() if op not in documented)


def strip_code(text: str) -> str:
    """The text without fenced code blocks, inline code spans, frontmatter and MDX comments."""
    text = re.sub(r"^---\n.*?\n---\n", "", text, count=1, flags=re.DOTALL)
    text = _FENCE.sub("", text)
    text = re.sub(r"\{/\*.*?\*/\}", "", text)
    return re.sub(r"(`+).+?\1", "", text)
