"""The Apollo Space v1 contract: load, bundle and lint the hand-written spec.

Everything else in the project (reference server, conformance kit, docs) reads
the spec through this package, so there is one copy of every schema.
"""

from __future__ import annotations

from apollospace_spec.bundle import bundle, bundled_spec, spec_sha256
from apollospace_spec.catalog import Requirement, RequirementCatalog, load_catalog
from apollospace_spec.locate import spec_root
from apollospace_spec.model import Operation, OperationRouter, iter_operations

__all__ = [
    "Operation",
    "OperationRouter",
    "Requirement",
    "RequirementCatalog",
    "bundle",
    "bundled_spec",
    "iter_operations",
    "load_catalog",
    "spec_root",
    "spec_sha256",
]
