"""The named checks: the registry, filled by the modules that define them.

Importing this module registers every check, in catalogue order: the checks
on the 426 (``_checks_refusal``), those on what intermediaries did to Upgrade
(``_checks_intermediary``), then those on the upgraded exchange and the
protocol-specific ones (``_checks_upgraded``), then the deprecation gate's
(``_checks_gate``).
"""

from __future__ import annotations

# ruff: noqa: I001  (the import order below is the catalogue order)
from . import _checks_refusal
from . import _checks_intermediary
from . import _checks_upgraded
from . import _checks_gate
from ._registry import REGISTRY, Check, Verdict, checks_for, run_checks

__all__ = ["REGISTRY", "Check", "Verdict", "checks_for", "run_checks"]

# imported for their registrations
del _checks_gate, _checks_intermediary, _checks_refusal, _checks_upgraded
