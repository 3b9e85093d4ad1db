"""Read the corpus: each `corpus/<name>.yaml` is a before/after pair and its expected classification.

A pair holds a one-sentence `description`, `expected` (`breaking`,
`non-breaking` or `none`), optionally the change `kinds` the gate must name,
the `today` sunsets are judged on, and its two sides: `base` (a document; by
default `_base.yaml`, edited by `base_patch`) and `head` (a document, or
`patch`: RFC 6902 operations applied to the base).
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonpatch
import yaml

CORPUS = Path(__file__).parent / "corpus"
VERDICTS = ("breaking", "non-breaking", "none")


@dataclass(frozen=True)
class Pair:
    name: str
    description: str
    expected: str
    kinds: tuple[str, ...]
    today: dt.date
    base: dict[str, Any]
    head: dict[str, Any]


def pair_files() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*.yaml") if not p.name.startswith("_"))


def load_pair(path: Path) -> Pair:
    raw = yaml.safe_load(path.read_text("utf-8"))
    template = yaml.safe_load((CORPUS / "_base.yaml").read_text("utf-8"))
    base = raw.get("base") or template
    if raw.get("base_patch"):
        base = jsonpatch.apply_patch(base, raw["base_patch"])
    head = raw.get("head") if "head" in raw else jsonpatch.apply_patch(copy.deepcopy(base), raw.get("patch") or [])
    today = dt.date.fromisoformat(str(raw.get("today", "2026-12-01")))
    return Pair(path.stem, raw["description"], raw["expected"], tuple(raw.get("kinds") or ()), today, base, head)


def verdict(changes: list[Any]) -> str:
    if any(change.breaking for change in changes):
        return "breaking"
    return "non-breaking" if changes else "none"
