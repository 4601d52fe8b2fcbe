"""The one list of verdicts and outcomes, and their marks."""

from __future__ import annotations

from pytest_upgrade._model import Outcome
from pytest_upgrade.report.verdicts import (
    CHECK_MARKS,
    GATED,
    JUDGED,
    MARKS,
    OUTCOMES,
    VERDICT_MARKS,
    VERDICTS,
    WORST_FIRST,
)


def test_worst_first_orders_the_same_verdicts() -> None:
    assert sorted(WORST_FIRST) == sorted(VERDICTS) == sorted({*JUDGED, *GATED})
    assert WORST_FIRST[:2] == ("failed", "error")
    assert WORST_FIRST[-len(GATED) :] == ("known", "waived")


def test_every_verdict_and_outcome_has_one_mark() -> None:
    assert set(MARKS) == {*VERDICTS, *OUTCOMES}
    assert tuple(o.value for o in Outcome) == OUTCOMES
    assert list(VERDICT_MARKS) == list(WORST_FIRST)
    assert list(CHECK_MARKS) == list(OUTCOMES)
    # A mark names one thing: a verdict and an outcome share one only when they are the same word.
    assert len(set(MARKS.values())) == len(MARKS)
