"""What the run created and could not delete, once per resource.

Cleanup lists every path the run created whose operation has no DELETE. The
same resource can come back under several spellings (a trailing slash, a
query) and a resource left behind takes its sub-resources with it (a
pipeline's stages): each is listed once, under the top-most resource left.
"""

from __future__ import annotations

from typing import Any


def normalized(path: str) -> str:
    return "/" + path.split("?", 1)[0].split("#", 1)[0].strip("/")


def left_on_target(paths: list[str]) -> list[dict[str, Any]]:
    """[{path, nested: [sub-resource paths]}], top-most resources sorted, each once."""
    unique = sorted({normalized(path) for path in paths})
    roots: dict[str, list[str]] = {}
    for path in unique:  # sorted: a parent comes before its children
        parent = next((root for root in roots if path.startswith(root + "/")), None)
        if parent is None:
            roots[path] = []
        else:
            roots[parent].append(path)
    return [{"path": path, "nested": nested} for path, nested in roots.items()]
