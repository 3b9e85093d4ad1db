"""Cut a release: freeze the bundled spec under spec/releases/vX.Y.Z/ with its changelog.

`info.version` of spec/openapi.yaml follows the release (a one-line text edit,
so the hand-written file keeps its comments and layout). A release that breaks
the previous one must bump the major version.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

from apollospace_spec.bundle import BundleError, bundle
from apollospace_spec.compat.diff import compare
from apollospace_spec.compat.load import CompatInputError, release_versions, releases_root
from apollospace_spec.compat.report import changelog
from apollospace_spec.locate import spec_root

_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")
_INFO_VERSION = re.compile(r"^(  version:\s*)(\S+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Released:
    folder: Path
    previous: str | None
    breaking: int
    total: int


def cut_release(version: str, *, root: Path | None = None, force: bool = False, today: dt.date | None = None) -> Released:
    """Write releases/v<version>/openapi.json and CHANGELOG.md; set info.version. CompatInputError on refusal."""
    root = root or spec_root()
    match = _SEMVER.match(version)
    if match is None:
        raise CompatInputError(f"{version!r} is not a version like 1.1.0")
    version = ".".join(match.groups())
    folder = releases_root(root) / f"v{version}"
    if folder.exists() and not force:
        raise CompatInputError(f"{folder} exists: pass --force (FORCE=1) to re-freeze it")
    _set_info_version(root / "openapi.yaml", version)
    try:
        document = bundle(root)
    except BundleError as exc:
        raise CompatInputError(str(exc)) from exc
    earlier = [v for v in release_versions(root) if _key(v) < _key(version)]
    previous = earlier[-1] if earlier else None
    changes = []
    if previous is not None:
        base = json.loads((releases_root(root) / f"v{previous}" / "openapi.json").read_text("utf-8"))
        changes = compare(base, document, today)
        if any(c.breaking for c in changes) and _key(version)[0] == _key(previous)[0]:
            raise CompatInputError(f"v{version} breaks v{previous} ({sum(c.breaking for c in changes)} breaking change(s)): "
                                   "run `make compat` and move them to a new major version")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "openapi.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    day = (today or dt.datetime.now(dt.UTC).date()).isoformat()
    text = changelog(changes, f"v{previous}" if previous else "(first release)", f"v{version}", date=day)
    if previous is None:
        text = f"# Changelog: v{version}\n\nReleased {day}. The first frozen release of the contract: the baseline of `make compat`.\n"
    (folder / "CHANGELOG.md").write_text(text, "utf-8")
    return Released(folder, previous, sum(c.breaking for c in changes), len(changes))


def _set_info_version(path: Path, version: str) -> None:
    text = path.read_text("utf-8")
    found = _INFO_VERSION.search(text.split("\nservers:", 1)[0])
    if found is None:
        raise CompatInputError(f"{path}: no `info.version` line to update")
    path.write_text(text[: found.start(2)] + version + text[found.end(2):], "utf-8")


def _key(version: str) -> tuple[int, int, int]:
    major, minor, patch = (int(p) for p in version.split("."))
    return major, minor, patch
