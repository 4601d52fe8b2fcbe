"""The named checks: the registry, filled by the modules that define them.

Importing this module registers every check, in catalogue order: the checks
on the 426 (``refusal``), those on what intermediaries did to Upgrade
(``intermediary``), then those on the upgraded exchange and the
protocol-specific ones (``upgraded``), then the deprecation gate's
(``gate``).
"""

from __future__ import annotations

# ruff: noqa: I001  (the import order below is the catalogue order)
from . import refusal
from . import intermediary
from . import upgraded
from . import gate
from .registry import REGISTRY, Check, Verdict, checks_for, run_checks

__all__ = ["REGISTRY", "Check", "Verdict", "checks_for", "run_checks"]

# imported for their registrations
del gate, intermediary, refusal, upgraded
