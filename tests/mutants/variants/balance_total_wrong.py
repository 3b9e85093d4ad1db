"""Breaks /req/stars/balance-compartments: the balance's `total` is the monthly compartment alone, without the package.

The plan's monthly Stars come from the subscription system and packages from
a separate purchases table; the balance endpoint was written before packages
existed and still reports the subscription's figure as the total.
"""

from __future__ import annotations

from typing import Any

from apollospace_refserver.operations import stars
from apollospace_refserver.stars_ledger import Wallet

_original = stars.render_balance


def _render_balance(current: Wallet, *, compartments: bool) -> dict[str, Any]:
    return {**_original(current, compartments=compartments), "total": current.monthly}


def patch() -> None:
    stars.render_balance = _render_balance
