"""The API docs, rendered from the spec: Mintlify MDX pages, Markdown twins, llms.txt and a preview.

`build_site` turns the bundled spec and the requirement catalog into a small
view model; `render_site` renders it through the Jinja templates of
`generators/` into a dict of output files; `write_site` writes them.
"""

from __future__ import annotations

from apollospace_docs.render import render_site, write_site
from apollospace_docs.view_model import DocsSite, build_site, site_from_spec

__all__ = ["DocsSite", "build_site", "render_site", "site_from_spec", "write_site"]
