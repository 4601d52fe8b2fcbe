"""A must-check that could not run is never a silent green (issue 33): every place a
verdict is shown says which must-checks were not run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pytest_upgrade._model import Finding, Outcome, Requirement, Severity
from pytest_upgrade.judge import EvaluationPolicy, RequirementResult, RequirementVerdict, conclude
from pytest_upgrade.report.html import render_html
from pytest_upgrade.report.markdown import render_markdown
from pytest_upgrade.report.results import failure_report, result_to_json, summary_line
from pytest_upgrade.report.summary import summary_lines
from support.observations import observation
from support.report_samples import entry

REASON = "inconclusive, never passed: TLSv1: client-cannot-offer (no protocols available)"
PASSED = Finding("upgraded-succeeds", Severity.MUST, Outcome.PASSED, "answered with 200")
NOT_RUN = Finding("tls-legacy-refused", Severity.MUST, Outcome.SKIPPED, REASON)
# Skipped because the rule's condition does not hold: not a must-check "not run".
NO_426 = Finding(
    "upgrade-present", Severity.MUST, Outcome.SKIPPED, "answered with 308, not 426", applies=False
)
SHOULD_SKIPPED = Finding("problem-media-type", Severity.SHOULD, Outcome.SKIPPED, "no 426")


def result(*findings: Finding, require_all: bool = False) -> RequirementResult:
    requirement = Requirement("TLS/1.2", path="/pay")
    observed = observation(
        requirement, target="https://a.example", as_of=dt.date(2027, 1, 15), observed_at=None
    )
    return conclude(observed, findings, EvaluationPolicy(require_all=require_all))


def test_only_applicable_skipped_must_checks_are_not_run() -> None:
    outcome = result(PASSED, NOT_RUN, NO_426, SHOULD_SKIPPED)
    assert outcome.not_run == (NOT_RUN,)
    assert outcome.verdict is RequirementVerdict.PASSED
    assert summary_line(outcome) == (
        "PASSED  TLS/1.2 GET /pay (1 must-check not run: tls-legacy-refused"
        " (inconclusive, never passed: TLSv1: client-cannot-offer (no protocols available)))"
    )
    assert result_to_json(outcome)["not_run"] == [{"id": "tls-legacy-refused", "reason": REASON}]


def test_require_all_checks_fails_on_a_must_check_not_run() -> None:
    outcome = result(PASSED, NOT_RUN, NO_426, require_all=True)
    assert outcome.verdict is RequirementVerdict.FAILED
    assert outcome.failed == (NOT_RUN,)
    head = failure_report(outcome).splitlines()[0]
    assert head.endswith(": 1 must-check not run: tls-legacy-refused (" + REASON + ")")
    # Checks that do not apply never fail it.
    assert result(PASSED, NO_426, require_all=True).verdict is RequirementVerdict.PASSED


def not_run_entry(verdict: str = "passed") -> dict[str, Any]:
    return entry(
        "test_pay.py::test_pay",
        verdict,
        [("upgraded-succeeds", "passed"), ("tls-legacy-refused", "skipped")],
        protocol="TLS/1.2",
        not_run=[{"id": "tls-legacy-refused", "reason": REASON}],
        summary="PASSED  TLS/1.2 GET /v2/orders (1 must-check not run: tls-legacy-refused (…))",
    )


def test_the_compliance_section_lists_a_pass_with_must_checks_not_run() -> None:
    lines = summary_lines([not_run_entry()], show_all=False)
    assert lines == [
        "PASSED  TLS/1.2 GET /v2/orders (1 must-check not run: tls-legacy-refused (…))"
        "  test_pay.py::test_pay",
        "",
        "1 requirement: 1 passed (1 with must-checks not run)",
    ]


def test_markdown_and_html_say_what_was_not_run() -> None:
    document = {"as_of": "2027-01-15", "results": [not_run_entry()], "refused": []}
    markdown = render_markdown(document)
    assert markdown.splitlines()[0] == (
        "## Upgrade compliance: ○ 1 requirement(s) hold, 1 with must-checks not run"
    )
    assert "### Must-checks not run" in markdown
    assert "1 must-check not run: tls-legacy-refused (inconclusive" in markdown
    page = render_html(document)
    assert "1 passed requirement with must-checks not run" in page
    assert "<b>Not checked:</b> 1 must-check not run: tls-legacy-refused" in page
    # A failed requirement says why it failed; its skipped checks are in its details.
    failed = {**document, "results": [not_run_entry("failed")]}
    assert "Must-checks not run" not in render_markdown(failed)
