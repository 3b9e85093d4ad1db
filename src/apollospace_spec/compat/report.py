"""Print a comparison for a terminal, and write it as a Markdown changelog for the docs."""

from __future__ import annotations

from collections.abc import Iterable

from apollospace_spec.compat.changes import Change


def terminal_lines(changes: list[Change], base_label: str, head_label: str) -> list[str]:
    """Breaking changes first, one line each, then the rest apart; a summary line last."""
    breaking = [c for c in changes if c.breaking]
    other = [c for c in changes if not c.breaking]
    lines = [f"compat: {base_label} -> {head_label}"]
    if breaking:
        lines.append(f"BREAKING ({len(breaking)}): these break /v1 (/req/versioning/v2-for-breaking); publish them under /v2")
        lines.extend(f"  BREAKING {c.line()}" for c in breaking)
    if other:
        lines.append(f"non-breaking ({len(other)}):")
        lines.extend(f"  {'deprecated' if c.deprecation else 'ok'} {c.line()}" for c in other)
    verdict = "/v1 BROKEN" if breaking else "/v1 kept"
    lines.append(f"{verdict}: {len(breaking)} breaking, {len(other)} non-breaking change(s)")
    return lines


def changelog(changes: list[Change], base_version: str, head_version: str, *, date: str | None = None) -> str:
    """The Markdown changelog from `base_version` to `head_version`: what partners read."""
    title = f"# Changelog: {base_version} → {head_version}"
    out = [title, ""]
    if date:
        out += [f"Released {date}.", ""]
    if not changes:
        out += ["No change to the contract.", ""]
        return "\n".join(out)
    sections = [
        ("Breaking changes", "Each of these breaks a promise of `/v1`; they are published under `/v2`.", [c for c in changes if c.breaking]),
        ("Deprecations", "Still served; each goes away at its sunset date.", [c for c in changes if c.deprecation]),
        ("Removed after sunset", None, [c for c in changes if not c.breaking and c.kind.endswith("after-sunset")]),
        ("Additions and other compatible changes", None,
         [c for c in changes if not c.breaking and not c.deprecation and not c.kind.endswith("after-sunset")]),
    ]
    for heading, intro, items in sections:
        if not items:
            continue
        out += [f"## {heading}", ""]
        if intro:
            out += [intro, ""]
        out += list(_bullets(items))
        out.append("")
    return "\n".join(out)


def _bullets(changes: Iterable[Change]) -> Iterable[str]:
    """One bullet per operation and reason; the same change seen through a shared schema is grouped."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for change in changes:
        promise = f" Breaks: {change.promise.value}." if change.promise else ""
        key = (change.reason + promise, change.pointer.split("/", 4)[-1] if change.pointer.count("/") > 4 else change.pointer)
        grouped.setdefault(key, []).append(change.operation)
    for (reason, _), operations in grouped.items():
        names = ", ".join(f"`{name}`" for name in dict.fromkeys(operations))
        yield f"- {names}: {_escape(reason)}"


def _escape(text: str) -> str:
    return text.replace("<", "&lt;").replace("|", "\\|")
