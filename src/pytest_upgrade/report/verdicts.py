"""The verdicts a report entry can have, the outcomes of its checks, and their marks.

One list of each and one set of marks: the failure report, the terminal's
counts, the HTML page, the Markdown summary, the diff and merge's checks of
an entry all read them from here.
"""

from __future__ import annotations

from .._model import Outcome
from ..judge import RequirementVerdict

__all__ = [
    "CHECK_MARKS",
    "FAILING",
    "GATED",
    "HOLDING",
    "JUDGED",
    "MARKS",
    "OUTCOMES",
    "VERDICTS",
    "VERDICT_MARKS",
    "WORST_FIRST",
]

# The judge's verdicts, in the order the terminal counts them (and its
# roll-up's columns).
JUDGED = tuple(verdict.value for verdict in RequirementVerdict)
# Failures a waiver or the baseline covers (glue.gating): an xfail, they do
# not fail the run; counted after the judge's, and only in runs that have them.
GATED = ("waived", "known")
VERDICTS = JUDGED + GATED
# The verdicts that fail the run (listed first by the reports), and those that
# say the requirement holds (of which the reports say which must-checks did not run).
FAILING = ("failed", "error")
HOLDING = ("passed", "warned")
# Worst first: the order of the HTML page's and the Markdown summary's counts
# and of the page's filters (the covered failures last).
WORST_FIRST = ("failed", "error", "warned", "skipped", "passed", "known", "waived")

# A check's outcomes (the JSON report's ``checks[].outcome``), in their order.
OUTCOMES = tuple(outcome.value for outcome in Outcome)

# A symbol for each verdict and outcome, so that it reads without colour too.
MARKS = {
    "passed": "✔",
    "failed": "✘",
    "warned": "⚠",
    "skipped": "○",
    "error": "‼",
    "noted": "ℹ",  # an outcome only: an information check saw something else
    "known": "◐",  # verdicts only
    "waived": "◌",
}
VERDICT_MARKS = {verdict: MARKS[verdict] for verdict in WORST_FIRST}
CHECK_MARKS = {outcome: MARKS[outcome] for outcome in OUTCOMES}
