"""House rule on deprecations: dated, with a window of at least 6 months before the sunset.

The conventions promise that `/v1` stays for at least 6 months after a
breaking change is announced; a deprecation is that announcement, so its
`x-apollospace-deprecation` dates must be readable and 6 months apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from apollospace_spec.compat.deprecation import EXTENSION, MINIMUM_MONTHS, add_months, parse_date
from apollospace_spec.model import walk
from apollospace_spec.rules.registry import LintContext, Violation, rule

RULE = "deprecation-window"


@rule(RULE, "Deprecations carry announcement and sunset dates at least 6 months apart.", "/req/versioning/v2-for-breaking")
def deprecation_window(ctx: LintContext) -> Iterator[Violation]:
    for pointer, node in walk(ctx.document):
        if not isinstance(node, dict):
            continue
        marked, extension = node.get("deprecated") is True, node.get(EXTENSION)
        if marked and extension is None:
            yield Violation(RULE, pointer, f"deprecated without {EXTENSION} (announcement and sunset dates)")
        elif extension is not None:
            yield from _check(pointer, marked, extension)


def _check(pointer: str, marked: bool, extension: Any) -> Iterator[Violation]:
    if not marked:
        yield Violation(RULE, pointer, f"{EXTENSION} without deprecated: true")
    if not isinstance(extension, dict):
        yield Violation(RULE, pointer, f"{EXTENSION} is not an object")
        return
    announced, sunset = parse_date(extension.get("announced")), parse_date(extension.get("sunset"))
    if announced is None or sunset is None:
        yield Violation(RULE, pointer, "announced and sunset must be dates (YYYY-MM-DD)")
        return
    earliest = add_months(announced, MINIMUM_MONTHS)
    if sunset < earliest:
        yield Violation(RULE, pointer, f"sunset {sunset} is less than {MINIMUM_MONTHS} months after the announcement {announced} (earliest {earliest})")
    link = extension.get("link")
    if link is not None and not (isinstance(link, str) and link.startswith("https://")):
        yield Violation(RULE, pointer, "link must be an https URL (sent as the Link rel=\"deprecation\" target)")
