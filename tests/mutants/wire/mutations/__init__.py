"""The wire mutations: one module each, named for what the proxy does to the traffic.

A module's docstring starts with "Breaks /req/..." and says which gateway or
middleware behaviour it stands for. It defines any of four hooks, each taking
the `Exchange` and editing it in place:

- `request`: an API call before it is forwarded to the server (it may answer by itself);
- `response`: the server's answer before the kit gets it;
- `delivery`: a webhook delivery before it is forwarded to the kit's receiver (it may answer by itself);
- `delivery_answer`: the receiver's answer before the server gets it.

`passthrough` is no module: the proxy with no mutation, for the no-false-alarm run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.mutants.wire.exchange import Exchange

PASSTHROUGH = "passthrough"
HOOKS = ("request", "response", "delivery", "delivery_answer")
Hook = Callable[[Exchange], None]


@dataclass(frozen=True)
class Mutation:
    """The hooks of one mutation (none for the passthrough)."""

    name: str
    request: Hook | None = None
    response: Hook | None = None
    delivery: Hook | None = None
    delivery_answer: Hook | None = None


def names() -> set[str]:
    """Every mutation module of this package."""
    return {path.stem for path in Path(__file__).parent.glob("*.py") if path.stem != "__init__"}


def load(name: str) -> Mutation:
    if name == PASSTHROUGH:
        return Mutation(name)
    module = importlib.import_module(f"{__name__}.{name}")
    hooks = {hook: getattr(module, hook) for hook in HOOKS if callable(getattr(module, hook, None))}
    if not hooks:
        raise ValueError(f"wire mutation {name} defines none of {', '.join(HOOKS)}")
    return Mutation(name, **hooks)
