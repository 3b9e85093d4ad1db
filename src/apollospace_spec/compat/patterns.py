"""Compare two regular expressions by sampling: tightened, loosened, equivalent or changed.

Deciding regex containment exactly is expensive; drawing strings from each
pattern (deterministically, seeded by the pattern) and testing them against the
other is enough to tell `[0-9]+` from `\\d+` (equivalent) and from `[0-9]{1,4}`
(tightened). JSON Schema patterns are unanchored, so matching is `search`.
"""

from __future__ import annotations

import random
import re
import string
import zlib
from typing import Any, Literal

try:  # Python 3.11+
    import re._constants as sre_c  # type: ignore[import-not-found]
    import re._parser as sre_parse  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover
    import sre_constants as sre_c  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

Relation = Literal["equivalent", "tightened", "loosened", "changed"]
SAMPLES = 300
_ALPHABET = string.ascii_letters + string.digits + string.punctuation + " \té中"
_REPEAT_SPAN = 12  # unbounded repeats draw up to this many extra items


def relation(old: str, new: str) -> Relation:
    """How the set of strings matching `new` relates to the one matching `old`."""
    if old == new:
        return "equivalent"
    old_samples, new_samples = samples(old), samples(new)
    if old_samples is None or new_samples is None:
        return "changed"
    new_in_old = all(_search(old, s) for s in new_samples)
    old_in_new = all(_search(new, s) for s in old_samples)
    if new_in_old and old_in_new:
        return "equivalent"
    if new_in_old:
        return "tightened"
    if old_in_new:
        return "loosened"
    return "changed"


def _search(pattern: str, text: str) -> bool:
    return re.search(pattern, text) is not None


def samples(pattern: str, count: int = SAMPLES) -> list[str] | None:
    """Strings matching `pattern`, plus a few edge strings that do; None if Python cannot read it."""
    try:
        compiled = re.compile(pattern)
        parsed = sre_parse.parse(pattern)
    except (re.error, ValueError, TypeError):
        return None
    rng = random.Random(zlib.crc32(pattern.encode("utf-8")))
    found = [s for s in ("", "a", "0", "A", "a" * 40, "0" * 40) if compiled.search(s)]
    for _ in range(count):
        try:
            text = _draw(list(parsed), rng, {})
        except (ValueError, IndexError, KeyError):
            continue
        if compiled.search(text):
            found.append(text)
    return found


def _draw(items: list[tuple[Any, Any]], rng: random.Random, groups: dict[int, str]) -> str:
    out: list[str] = []
    for op, av in items:
        if op is sre_c.LITERAL:
            out.append(chr(av))
        elif op is sre_c.NOT_LITERAL:
            out.append(rng.choice([c for c in _ALPHABET if ord(c) != av]))
        elif op is sre_c.ANY:
            out.append(rng.choice(_ALPHABET))
        elif op is sre_c.IN:
            out.append(_draw_class(av, rng))
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, getattr(sre_c, "POSSESSIVE_REPEAT", None)):
            low, high, sub = av
            top = low + _REPEAT_SPAN if high is sre_c.MAXREPEAT or high > low + _REPEAT_SPAN else high
            out.extend(_draw(list(sub), rng, groups) for _ in range(rng.randint(low, top)))
        elif op is sre_c.SUBPATTERN:
            group, sub = av[0], av[-1]
            text = _draw(list(sub), rng, groups)
            if group is not None:
                groups[group] = text
            out.append(text)
        elif op is getattr(sre_c, "ATOMIC_GROUP", None):
            out.append(_draw(list(av), rng, groups))
        elif op is sre_c.BRANCH:
            out.append(_draw(list(rng.choice(av[1])), rng, groups))
        elif op is sre_c.GROUPREF:
            out.append(groups.get(av, ""))
        # AT (anchors), ASSERT and ASSERT_NOT draw nothing; samples that miss are filtered out.
    return "".join(out)


def _draw_class(items: list[tuple[Any, Any]], rng: random.Random) -> str:
    if items and items[0][0] is sre_c.NEGATE:
        allowed = [c for c in _ALPHABET if not _in_class(c, items[1:])]
        return rng.choice(allowed)
    op, av = rng.choice(items)
    if op is sre_c.LITERAL:
        return chr(av)
    if op is sre_c.RANGE:
        return chr(rng.randint(av[0], av[1]))
    return rng.choice([c for c in _ALPHABET if _in_class(c, [(op, av)])])


def _in_class(char: str, items: list[tuple[Any, Any]]) -> bool:
    for op, av in items:
        if op is sre_c.LITERAL and ord(char) == av:
            return True
        if op is sre_c.RANGE and av[0] <= ord(char) <= av[1]:
            return True
        if op is sre_c.CATEGORY and _in_category(char, av):
            return True
    return False


def _in_category(char: str, category: Any) -> bool:
    word = char.isalnum() or char == "_"
    table = {
        sre_c.CATEGORY_DIGIT: char.isdigit(),
        sre_c.CATEGORY_NOT_DIGIT: not char.isdigit(),
        sre_c.CATEGORY_WORD: word,
        sre_c.CATEGORY_NOT_WORD: not word,
        sre_c.CATEGORY_SPACE: char.isspace(),
        sre_c.CATEGORY_NOT_SPACE: not char.isspace(),
    }
    return table.get(category, False)
