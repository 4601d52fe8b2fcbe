"""The gate's dates (issue 32): one date parser, Sunset judged against the as-of day and
the deadline, a check that raises, and every accepted date rendered in every report."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_upgrade._model import Finding, Observation, Outcome, Requirement, Severity
from pytest_upgrade._requirements import parse_declared, parse_requirement
from pytest_upgrade._verdict import Verdict
from pytest_upgrade.checks.catalogue import run_checks
from pytest_upgrade.checks.gate import http_date
from pytest_upgrade.checks.registry import Check
from pytest_upgrade.grammar import parse_calendar_date
from pytest_upgrade.judge import RequirementVerdict, conclude
from pytest_upgrade.report.html import render_html
from pytest_upgrade.report.markdown import render_markdown
from pytest_upgrade.report.results import failure_report, result_to_json, summary_line
from support.observations import TLS_H2, TLS_HTTP11, exchange, response
from support.observations import observation as build
from support.report_samples import entry

DEADLINE = dt.date(2027, 6, 1)
AS_OF = dt.date(2026, 12, 1)
DEPRECATED = ("deprecation", "@1764547200")  # 2025-12-01


def observation(
    *legacy_headers: tuple[str, str],
    after: dt.date | None = DEADLINE,
    as_of: dt.date = AS_OF,
    upgraded_headers: tuple[tuple[str, str], ...] = (),
    observed_at: dt.datetime | None = None,
) -> Observation:
    legacy = exchange("legacy", response(200, *legacy_headers), transport=TLS_HTTP11)
    upgraded = exchange(
        "upgraded", response(200, *upgraded_headers, http_version="2"), transport=TLS_H2
    )
    requirement = Requirement("h2", "/v2/orders", after=after)
    return build(requirement, legacy, upgraded, as_of=as_of, observed_at=observed_at)


def finding(observation: Observation, check_id: str) -> Finding:
    (found,) = [f for f in run_checks(observation) if f.check_id == check_id]
    return found


# -- one parser for after= and --upgrade-as-of --------------------------------------------


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-12-01", dt.date(2026, 12, 1)),
        ("0001-01-01", dt.date.min),
        ("9999-12-31", dt.date.max),
        ("2028-02-29", dt.date(2028, 2, 29)),
    ],
)
def test_a_calendar_date_is_yyyy_mm_dd(text: str, day: dt.date) -> None:
    assert parse_calendar_date(text) == day


@pytest.mark.parametrize(
    "text",
    [
        *("", "20261201", "2026-W49-1", "2026-12-1", "2026-12-01T00:00", " 2026-12-01"),
        *("2027-02-29", "0000-01-01", "２０２６-12-01", "2026-335", "+2026-12-01"),
    ],
)
def test_every_other_form_is_no_date(text: str) -> None:
    assert parse_calendar_date(text) is None
    with pytest.raises(ValueError, match="after must be a date in the form YYYY-MM-DD"):
        parse_requirement(("h2",), {"after": text})


def test_a_declared_path_carries_a_query() -> None:
    requirement = parse_declared("TLS/1.2 /orders/42?x=1&y=2 after=2027-01-01")
    assert requirement.path == "/orders/42?x=1&y=2"
    assert requirement.after == dt.date(2027, 1, 1)
    assert parse_declared("h2 /search?q=a=b").path == "/search?q=a=b"
    with pytest.raises(ValueError, match="'x=1' is not an option"):
        parse_declared("h2 x=1")
    with pytest.raises(ValueError, match="after must be a date"):
        parse_declared("h2 /v2 after=")


# -- Sunset -------------------------------------------------------------------------------


def test_a_sunset_already_past_before_the_deadline_fails() -> None:
    # RFC 8594 §3: a past Sunset means the resource may go at any time.
    found = finding(
        observation(DEPRECATED, ("sunset", "Sun, 01 Nov 2026 00:00:00 GMT")), "sunset-header"
    )
    assert found.outcome is Outcome.FAILED
    assert found.message == (
        "Sunset (2026-11-01) is already past as of 2026-12-01, before the deadline 2027-06-01"
    )
    assert "RFC 8594 §3" in found.diagnosis


def test_past_is_measured_when_the_probes_ran_on_the_as_of_day() -> None:
    sunset = ("sunset", "Tue, 01 Dec 2026 09:00:00 GMT")
    noon = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    assert finding(observation(sunset, observed_at=noon), "sunset-header").outcome is (
        Outcome.FAILED
    )
    early = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    assert finding(observation(sunset, observed_at=early), "sunset-header").outcome is (
        Outcome.PASSED
    )
    # --upgrade-as-of rehearses another day: judged as of its 00:00 UTC.
    assert finding(observation(sunset), "sunset-header").outcome is Outcome.PASSED


@pytest.mark.parametrize(
    ("sunset", "outcome"),
    [
        ("Tue, 01 Jun 2027 00:00:00 GMT", Outcome.PASSED),  # the moment the gate enforces
        ("Tue, 01 Jun 2027 00:00:01 GMT", Outcome.FAILED),  # later on the deadline day
        ("Tue, 01 Jun 2027 23:59:59 GMT", Outcome.FAILED),
        ("Mon, 31 May 2027 23:59:59 GMT", Outcome.PASSED),
    ],
)
def test_sunset_is_due_by_00_00_utc_of_the_deadline_day(sunset: str, outcome: Outcome) -> None:
    found = finding(observation(("sunset", sunset)), "sunset-header")
    assert found.outcome is outcome, found.message
    if outcome is Outcome.FAILED:
        assert "later than the declared deadline 2027-06-01 (enforced from 00:00 UTC)" in (
            found.message
        )


def test_a_sunset_sent_twice_says_so_and_why() -> None:
    value = "Tue, 01 Jun 2027 00:00:00 GMT"
    found = finding(observation(("sunset", value), ("sunset", value)), "sunset-header")
    assert found.outcome is Outcome.FAILED
    assert found.message == "Sunset appears twice with the same value"
    assert found.actual == f"Sunset: {value}, Sunset: {value}"
    assert "`Header set` plus `Header always set`" in found.diagnosis
    assert "not an HTTP-date" not in found.message
    other = finding(
        observation(("sunset", value), ("sunset", "Wed, 02 Jun 2027 00:00:00 GMT")),
        "sunset-header",
    )
    assert other.message == "Sunset appears twice with different values"


def test_a_deprecation_sent_three_times_says_so() -> None:
    found = finding(observation(DEPRECATED, DEPRECATED, DEPRECATED), "deprecation-header")
    assert found.outcome is Outcome.WARNED
    assert found.message == "Deprecation appears 3 times with the same value"


@pytest.mark.parametrize("after", [dt.date.max, dt.date.min, dt.date(9999, 12, 30)])
def test_the_calendar_ends_are_judged_not_crashed(after: dt.date) -> None:
    sunset = ("sunset", http_date(after))
    findings = run_checks(observation(DEPRECATED, sunset, after=after))
    assert not [f for f in findings if f.outcome is Outcome.ERROR]
    if after > AS_OF:
        assert finding(observation(DEPRECATED, sunset, after=after), "sunset-header").outcome is (
            Outcome.PASSED
        )


def test_http_date_writes_four_digit_years() -> None:
    assert http_date(dt.date.min) == "Mon, 01 Jan 0001 00:00:00 GMT"
    assert http_date(dt.date.max) == "Fri, 31 Dec 9999 00:00:00 GMT"


# -- Deprecation and Sunset on the upgraded answer ----------------------------------------


def test_an_upgraded_answer_announcing_its_end_warns() -> None:
    sunset = ("sunset", "Tue, 01 Jun 2027 00:00:00 GMT")
    found = finding(
        observation(DEPRECATED, sunset, upgraded_headers=(DEPRECATED, sunset)),
        "upgraded-not-deprecated",
    )
    assert found.outcome is Outcome.WARNED
    assert found.severity is Severity.SHOULD
    assert found.actual == "Deprecation: @1764547200, Sunset: Tue, 01 Jun 2027 00:00:00 GMT"
    assert "add_header" in found.diagnosis
    # After the cutover too: there the Sunset it shows is past.
    after = observation(upgraded_headers=(sunset,), as_of=dt.date(2027, 7, 1))
    assert finding(after, "upgraded-not-deprecated").outcome is Outcome.WARNED


def test_a_clean_upgraded_answer_passes_and_no_deadline_no_check() -> None:
    assert finding(observation(), "upgraded-not-deprecated").outcome is Outcome.PASSED
    ungated = run_checks(observation(after=None, upgraded_headers=(DEPRECATED,)))
    assert "upgraded-not-deprecated" not in {f.check_id for f in ungated}


# -- a check that raises ------------------------------------------------------------------


def _raises(observation: Observation) -> Verdict:
    raise OverflowError("date value out of range")


def test_a_check_that_raises_is_an_error_of_its_requirement() -> None:
    check = Check("boom", Severity.MUST, "RFC 0", "never raises", frozenset({"h2"}), _raises)
    raised = check.run(observation())
    assert raised.outcome is Outcome.ERROR
    assert raised.message == "the check itself failed: OverflowError: date value out of range"
    result = conclude(observation(), (raised,))
    assert result.verdict is RequirementVerdict.ERROR
    assert result.error == "boom: the check itself failed: OverflowError: date value out of range"
    assert result_to_json(result)["verdict"] == "error"
    assert result_to_json(result)["checks"][0]["outcome"] == "error"
    assert summary_line(result).startswith("ERROR ")
    assert "‼ boom [must, RFC 0] error: the check itself failed" in failure_report(result)


# -- every accepted date renders in every report -----------------------------------------


@pytest.mark.parametrize(
    ("after", "as_of"),
    [
        ("9999-12-31", "2026-12-01"),
        ("0001-01-01", "2026-12-01"),
        ("9999-12-31", "0001-01-01"),
        ("0001-01-01", "9999-12-31"),
        ("2026-12-01", "9999-12-31"),
    ],
)
def test_the_reports_render_the_calendar_ends(after: str, as_of: str) -> None:
    left = (dt.date.fromisoformat(after) - dt.date.fromisoformat(as_of)).days
    document = {
        "version": 1,
        "as_of": as_of,
        "results": [
            entry("t.py::t", "passed", [("status-426", "passed")], after=after, days_left=left)
        ],
        "refused": [],
    }
    page = render_html(document)
    assert f"<time>{after}</time>" in page
    assert f"as of {as_of}" in page
    assert page.count("<text ") < 40  # a long span gets few ticks, not one per year
    assert after in render_markdown(document)


def test_markdown_escapes_markdown_in_paths() -> None:
    document = {
        "version": 1,
        "as_of": "2026-12-01",
        "results": [entry("t.py::t", "failed", [("status-426", "failed")], path="/plain*emph*_x_")],
        "refused": [],
    }
    text = render_markdown(document)
    assert r"h2 GET /plain\*emph\*\_x\_" in text
    assert "/plain*emph*" not in text


@settings(max_examples=150, deadline=None)
@given(after=st.dates(), as_of=st.dates(), sunset=st.dates())
def test_every_accepted_date_is_judged_and_rendered(
    after: dt.date, as_of: dt.date, sunset: dt.date
) -> None:
    requirement = parse_declared(f"h2 /v2/orders after={after.isoformat()}")
    assert parse_calendar_date(after.isoformat()) == after
    legacy = exchange("legacy", response(200, DEPRECATED, ("sunset", http_date(sunset))))
    upgraded = exchange("upgraded", response(200, http_version="2"), transport=TLS_H2)
    observed = build(requirement, legacy, upgraded, as_of=as_of, observed_at=None)
    result = conclude(observed, tuple(run_checks(observed)))
    assert result.error is None
    entry = {**result_to_json(result), "nodeid": "t.py::t", "outcome": "passed"}
    document = {"version": 1, "as_of": as_of.isoformat(), "results": [entry], "refused": []}
    assert f"<time>{after.isoformat()}</time>" in render_html(document)
    assert after.isoformat() in render_markdown(document)
    assert summary_line(result)
    assert failure_report(result)
