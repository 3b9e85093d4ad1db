"""Breaks /req/stars/billing-visibility: members see the monthly and package compartments, not only the total.

The balance serializer has no role-aware view: whoever may read the balance
gets every field of it.
"""

from __future__ import annotations

from apollospace_refserver.operations import stars


def patch() -> None:
    stars.COMPARTMENT_ROLES = ("owner", "admin", "member")
