"""The changelog page's view model: every release and the unreleased changes, from the gate.

Each entry is the compat gate's classification (`apollospace_spec.compat.compare`)
between two frozen releases, or between the latest release and the working spec,
never a re-read of a prose file. Only a release's date comes from its
CHANGELOG.md (`Released YYYY-MM-DD.`), the one fact the frozen document lacks.
Sunsets are judged on a fixed day (the release's date; for unreleased changes,
the latest release's), so the page does not change with the clock.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apollospace_spec.compat import Change, compare
from apollospace_spec.compat.load import release_versions, releases_root

_RELEASED = re.compile(r"^Released (\d{4}-\d{2}-\d{2})\.", re.MULTILINE)
# Sunsets of unreleased changes are judged on this day when no release has a date.
_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class ChangeItem:
    """One reason, the operations (or events) it applies to, and the promise of /v1 it breaks."""

    operations: tuple[str, ...]
    reason: str
    promise: str = ""

    @property
    def sentence(self) -> str:
        """The reason as a sentence: `response field 'website' removed: clients reading it break.`"""
        return self.reason if self.reason.endswith((".", "!", "?")) else self.reason + "."


@dataclass(frozen=True)
class ChangeSection:
    heading: str
    intro: str
    items: tuple[ChangeItem, ...]


@dataclass(frozen=True)
class ReleaseView:
    """A release (`version` set) or the unreleased changes (`version` empty), newest first."""

    version: str
    previous: str
    date: str
    sections: tuple[ChangeSection, ...]

    @property
    def title(self) -> str:
        return f"v{self.version}" if self.version else "Unreleased"

    @property
    def breaking(self) -> int:
        return sum(len(s.items) for s in self.sections if s.heading == "Breaking changes")


def change_sections(changes: list[Change]) -> tuple[ChangeSection, ...]:
    """The gate's changes in the changelog's sections (those of `compat --changelog`)."""
    after_sunset = [c for c in changes if not c.breaking and c.kind.endswith("after-sunset")]
    plan = (
        (
            "Breaking changes",
            "Each of these breaks a promise of `/v1`; they are published under `/v2`.",
            [c for c in changes if c.breaking],
        ),
        (
            "Deprecations",
            "Still served; each goes away at its sunset date.",
            [c for c in changes if c.deprecation],
        ),
        ("Removed after sunset", "", after_sunset),
        (
            "Additions and other compatible changes",
            "",
            [c for c in changes if not c.breaking and not c.deprecation and c not in after_sunset],
        ),
    )
    return tuple(
        ChangeSection(heading, intro, _items(found)) for heading, intro, found in plan if found
    )


def _items(changes: list[Change]) -> tuple[ChangeItem, ...]:
    """One item per reason; the same change seen by several operations (a shared schema) once."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for change in changes:
        promise = change.promise.value if change.promise else ""
        grouped.setdefault((change.reason, promise), []).append(change.operation)
    return tuple(
        ChangeItem(tuple(dict.fromkeys(operations)), reason, promise)
        for (reason, promise), operations in grouped.items()
    )


def release_date(root: Path, version: str) -> str:
    """`2026-12-02`, from the release's CHANGELOG.md; empty when it states none."""
    path = releases_root(root) / f"v{version}" / "CHANGELOG.md"
    found = _RELEASED.search(path.read_text("utf-8")) if path.is_file() else None
    return found[1] if found else ""


def _released(root: Path, version: str) -> dict[str, Any]:
    path = releases_root(root) / f"v{version}" / "openapi.json"
    return dict(json.loads(path.read_text("utf-8")))


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text) if text else _EPOCH


def release_history(current: dict[str, Any], root: Path) -> tuple[ReleaseView, ...]:
    """The unreleased changes of `current` (when any), then every release under
    `root/releases`, newest first."""
    versions = release_versions(root)
    history: list[ReleaseView] = []
    previous: dict[str, Any] | None = None
    for index, version in enumerate(versions):
        document = _released(root, version)
        date = release_date(root, version)
        changes = compare(previous, document, _day(date)) if previous is not None else []
        before = versions[index - 1] if index else ""
        history.append(ReleaseView(version, before, date, change_sections(changes)))
        previous = document
    if previous is not None:
        latest = history[-1]
        unreleased = compare(previous, current, _day(latest.date))
        if unreleased:
            history.append(ReleaseView("", latest.version, "", change_sections(unreleased)))
    return tuple(reversed(history))


__all__ = ["ChangeItem", "ChangeSection", "ReleaseView", "change_sections", "release_history"]
