"""The gate classifies every corpus pair as expected (the hard cases of issue 13 among them)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from apollospace_spec.compat import compare
from tests.spec.compat.corpus_pairs import VERDICTS, load_pair, pair_files, verdict

FILES = pair_files()
_VALID: set[str] = set()  # documents already validated (most pairs share the base)


def _validate(document: dict[str, Any]) -> None:
    key = json.dumps(document, sort_keys=True)
    if key not in _VALID:
        validate(document)
        _VALID.add(key)


def test_the_corpus_is_large_and_covers_each_verdict() -> None:
    """At least 40 pairs, with breaking, non-breaking and refactor-only (none) pairs among them."""
    counts = Counter(load_pair(path).expected for path in FILES)
    assert len(FILES) >= 40, f"only {len(FILES)} pairs"
    assert set(counts) == set(VERDICTS), counts
    assert min(counts.values()) >= 8, counts


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_pair_is_classified_as_expected(path: Path) -> None:
    """Both sides are valid OpenAPI 3.1; the gate's verdict and change kinds are the expected ones."""
    pair = load_pair(path)
    assert pair.expected in VERDICTS, f"{path.name}: expected is one of {VERDICTS}"
    assert pair.description.endswith("."), f"{path.name}: description is a sentence"
    _validate(pair.base)
    _validate(pair.head)
    changes = compare(pair.base, pair.head, pair.today)
    shown = "\n".join(("BREAKING " if c.breaking else "ok ") + c.line() for c in changes) or "(no change)"
    assert verdict(changes) == pair.expected, f"{pair.description}\n{shown}"
    missing = set(pair.kinds) - {c.kind for c in changes}
    assert not missing, f"{pair.description}: kinds {sorted(missing)} not reported\n{shown}"
    for change in changes:
        assert change.pointer.startswith("#/"), change
        assert (change.promise is not None) == change.breaking, f"a breaking change names its promise, and only it: {change}"
