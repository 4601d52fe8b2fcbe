"""The outcomes check tables name, by their short names: ``from support.outcomes import PASSED``."""

from __future__ import annotations

from pytest_upgrade._model import Outcome

__all__ = ["FAILED", "NOTED", "PASSED", "SKIPPED", "WARNED"]

PASSED, FAILED, WARNED, SKIPPED, NOTED = (
    Outcome.PASSED,
    Outcome.FAILED,
    Outcome.WARNED,
    Outcome.SKIPPED,
    Outcome.NOTED,
)
