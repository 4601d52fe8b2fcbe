"""What a check decides about its rule: a :class:`Verdict` with a :class:`Status`.

Below both the checks (``checks/``) and the protocols' judges
(``protocols/``), which return these, so that neither imports the other to
say what it saw. Pure values, no I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ._model import Severity

__all__ = ["Status", "Verdict"]


class Status(enum.StrEnum):
    """What a check function decided about its rule."""

    OK = "ok"
    VIOLATED = "violated"
    SKIPPED = "skipped"  # the rule could not be judged: the message says why


@dataclass(frozen=True)
class Verdict:
    """What a check function decided: a :class:`Status`, and what it saw.

    (A requirement's verdict, a ``judge.RequirementVerdict``, is decided from
    these by ``judge.evaluate``.) ``severity`` lowers the
    check's own severity for this one verdict, for rules whose catalogue entry
    mixes a MUST with SHOULD-level notes (for example a problem member of the
    wrong type, which consumers ignore: RFC 9457 §3.1).
    """

    status: Status
    message: str
    expected: str = ""
    actual: str = ""
    diagnosis: str = ""
    severity: Severity | None = None
    applies: bool = True  # False: skipped because the rule's condition does not hold

    @classmethod
    def ok(cls, message: str, *, expected: str = "", actual: str = "") -> Verdict:
        return cls(Status.OK, message, expected=expected, actual=actual)

    @classmethod
    def skip(cls, reason: str) -> Verdict:
        """The rule applies but could not be judged (a must-check "not run")."""
        return cls(Status.SKIPPED, reason)

    @classmethod
    def not_applicable(cls, reason: str) -> Verdict:
        """Skipped because the rule's condition does not hold (no 426 to read, no 101)."""
        return cls(Status.SKIPPED, reason, applies=False)

    @classmethod
    def violated(
        cls,
        message: str,
        *,
        expected: str = "",
        actual: str = "",
        diagnosis: str = "",
        severity: Severity | None = None,
    ) -> Verdict:
        return cls(Status.VIOLATED, message, expected, actual, diagnosis, severity)
