"""Every variant's patch still lands on the reference server as it is now (fast; part of `make test`).

A refactor of the server can leave a variant patching a name that no longer
exists (an AttributeError at start-up) or, worse, one the server stopped
reading: the patch then sets a brand-new attribute, the variant serves the
unbroken server, and only the slow catalog run notices. This test applies each
patch in this process and fails when a patch adds a name to a module or class
of the reference server instead of replacing one, or replaces nothing there
(module-level registries such as HANDLERS count), then restores everything.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

import apollospace_refserver
from tests.mutants.catalog import variant_modules

PACKAGE = apollospace_refserver.__name__


Snapshot = dict[str, tuple[Any, dict[str, Any]]]


def _server_namespaces() -> Iterator[tuple[str, Any]]:
    """Every module of the reference server, every class and module-level dict of one: what a patch may replace."""
    for name, module in sorted(sys.modules.items()):
        if not isinstance(module, ModuleType) or not (name == PACKAGE or name.startswith(PACKAGE + ".")):
            continue
        yield name, module
        for attribute, value in vars(module).items():
            if (inspect.isclass(value) and value.__module__ == name) or type(value) is dict:
                yield f"{name}.{attribute}", value


def _names(owner: Any) -> dict[str, Any]:
    return owner if type(owner) is dict else vars(owner)


def _snapshot() -> Snapshot:
    return {label: (owner, dict(_names(owner))) for label, owner in _server_namespaces()}


def _restore(snapshot: Snapshot) -> None:
    for owner, saved in snapshot.values():
        if type(owner) is dict:
            owner.clear()
            owner.update(saved)
            continue
        current = vars(owner)
        for name in [n for n in current if n not in saved]:
            delattr(owner, name)
        for name, value in saved.items():
            if current.get(name) is not value and not name.startswith("__"):
                setattr(owner, name, value)


@pytest.fixture(scope="module", autouse=True)
def _whole_server_loaded() -> None:
    importlib.import_module("apollospace_refserver.app")  # registers every operation module a patch may target


@pytest.mark.parametrize("variant", sorted(variant_modules()))
def test_patch_replaces_existing_names(variant: str) -> None:
    """Requirement: none (a self-test of the catalog). The variant's patch() runs and only replaces names the server has."""
    module = importlib.import_module(f"tests.mutants.variants.{variant}")
    patch = getattr(module, "patch", None)
    if patch is None:
        assert getattr(module, "wrap", None) or getattr(module, "configure", None), f"{variant} breaks nothing: no patch, wrap or configure"
        return
    before = _snapshot()
    try:
        patch()
        added = sorted(f"{label}.{name}" for label, (owner, saved) in before.items()
                       for name in _names(owner) if name not in saved and type(owner) is not dict)
        changed = sorted(f"{label}.{name}" for label, (owner, saved) in before.items()
                         for name, value in _names(owner).items() if name in saved and saved[name] is not value)
    finally:
        _restore(before)
    assert not added, f"{variant} sets names the reference server does not have (the patch would change nothing): {added}"
    assert changed, f"{variant}'s patch() replaced nothing in the reference server"
