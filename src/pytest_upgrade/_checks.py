"""The named checks: the registry, filled by the modules that define them.

Importing this module registers every check, in catalogue order: the checks
on the 426 (``_checks_refusal``), then those on the upgraded exchange and the
protocol-specific ones (``_checks_upgraded``).
"""

from __future__ import annotations

from . import _checks_refusal, _checks_upgraded
from ._registry import REGISTRY, Check, Verdict, checks_for, run_checks

__all__ = ["REGISTRY", "Check", "Verdict", "checks_for", "run_checks"]

del _checks_refusal, _checks_upgraded  # imported for their registrations
