"""The deprecation gate (after=DATE): pure checks over hand-built exchanges."""

from __future__ import annotations

import datetime as dt

import pytest

from pytest_upgrade._model import (
    Finding,
    Observation,
    Outcome,
    Requirement,
)
from pytest_upgrade.checks.catalogue import run_checks
from pytest_upgrade.checks.gate import parse_deprecation
from support.observations import TLS_H2, TLS_HTTP11, exchange, response
from support.observations import observation as build
from support.outcomes import FAILED, NOTED, PASSED, SKIPPED, WARNED

DEADLINE = dt.date(2027, 3, 1)
BEFORE = dt.date(2026, 11, 22)
AFTER = dt.date(2027, 3, 2)

# Deprecated on 2025-12-01T00:00:00Z (epoch seconds); sunset on the deadline.
DEPRECATED_AT = "@1764547200"
SUNSET = "Mon, 01 Mar 2027 00:00:00 GMT"

ANNOUNCING = (("deprecation", DEPRECATED_AT), ("sunset", SUNSET))


def observation(
    *,
    as_of: dt.date = BEFORE,
    legacy_status: int = 200,
    legacy_headers: tuple[tuple[str, str], ...] = ANNOUNCING,
    after: dt.date | None = DEADLINE,
) -> Observation:
    legacy = exchange(
        "legacy",
        response(legacy_status, *legacy_headers),
        url="https://127.0.0.1:8443/v2/orders",
        transport=TLS_HTTP11,
    )
    upgraded = exchange(
        "upgraded",
        response(200, http_version="2"),
        url="https://127.0.0.1:8443/v2/orders",
        offered="HTTP/2 over TLS, ALPN h2, http/1.1",
        transport=TLS_H2,
    )
    return build(Requirement("h2", "/v2/orders", after=after), legacy, upgraded, as_of=as_of)


def by_id(findings: list[Finding]) -> dict[str, Finding]:
    return {finding.check_id: finding for finding in findings}


def assert_outcomes(findings: dict[str, Finding], expected: dict[str, Outcome]) -> None:
    """The checks expected names are all there, each with its outcome."""
    assert {check_id: findings[check_id].outcome for check_id in expected} == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("@1764547200", dt.datetime(2025, 12, 1, tzinfo=dt.UTC)),
        ("@0", dt.datetime(1970, 1, 1, tzinfo=dt.UTC)),
    ],
)
def test_parse_deprecation_dates(value: str, expected: dt.datetime) -> None:
    assert parse_deprecation(value) == (expected, "")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("true", "old draft"),
        ("?1", "old draft"),
        ("1764547200", "not a structured-field date"),
        ("Mon, 01 Dec 2025 00:00:00 GMT", "not a structured-field item"),
        ("@", "not a structured-field item"),
        ("", "not a structured-field item"),
    ],
)
def test_parse_deprecation_rejects(value: str, problem: str) -> None:
    when, message = parse_deprecation(value)
    assert when is None
    assert problem in message


def test_before_the_deadline_the_announcement_is_judged_and_refusal_waits() -> None:
    findings = by_id(run_checks(observation()))
    # The new protocol must already work.
    assert_outcomes(
        findings,
        {
            "legacy-still-served": PASSED,
            "deprecation-header": PASSED,
            "sunset-header": PASSED,
            "status-426": SKIPPED,
            "upgraded-succeeds": PASSED,
            "tls-legacy-refused": SKIPPED,
        },
    )
    waiting = findings["status-426"]
    assert "not enforced before the deadline 2027-03-01 (99 day(s) left" in waiting.message


def test_from_the_deadline_every_426_check_applies_and_the_announcement_is_gone() -> None:
    findings = by_id(run_checks(observation(as_of=DEADLINE)))
    assert "legacy-still-served" not in findings
    assert findings["status-426"].outcome is Outcome.FAILED  # 200 on the day: not enforced
    enforced = by_id(run_checks(observation(as_of=AFTER, legacy_status=426)))
    assert enforced["status-426"].outcome is Outcome.PASSED


def test_the_as_of_date_flips_the_verdict_of_the_same_server() -> None:
    before = by_id(run_checks(observation(as_of=BEFORE)))
    after = by_id(run_checks(observation(as_of=AFTER)))
    assert not any(f.outcome is Outcome.FAILED for f in before.values())
    assert after["status-426"].outcome is Outcome.FAILED


def test_early_enforcement_is_an_info_note_and_the_426_is_judged() -> None:
    findings = by_id(run_checks(observation(legacy_status=426, legacy_headers=())))
    # The 426 served early is judged on its content.
    assert_outcomes(
        findings,
        {"legacy-still-served": NOTED, "upgrade-present": FAILED, "deprecation-header": SKIPPED},
    )
    assert "already enforced before the deadline" in findings["legacy-still-served"].message


def test_legacy_failing_before_the_deadline_fails() -> None:
    findings = by_id(run_checks(observation(legacy_status=404)))
    assert findings["legacy-still-served"].outcome is Outcome.FAILED


# Sunset values around the deadline (2027-03-01): a month after, a second before.
LATE = "Thu, 01 Apr 2027 00:00:00 GMT"
JUST_BEFORE = "Sun, 28 Feb 2027 23:59:59 GMT"
DEPRECATED_AFTER = "@1803945600"  # 2027-03-02, after the Sunset


def fields(deprecation: str | None, sunset: str | None) -> tuple[tuple[str, str], ...]:
    """The legacy answer's Deprecation and Sunset fields (None: left out)."""
    given = (("deprecation", deprecation), ("sunset", sunset))
    return tuple((name, value) for name, value in given if value is not None)


# id: the legacy answer's fields, the two checks' outcomes, what sunset-header says.
ANNOUNCEMENTS = {
    "neither": ((), WARNED, FAILED, "does not announce"),
    "no-dep": (fields(None, SUNSET), WARNED, PASSED, "sunset announced"),
    "draft-true": (fields("true", SUNSET), WARNED, PASSED, "sunset announced"),
    "sunset-iso-date": (fields(DEPRECATED_AT, "2027-03-01"), PASSED, FAILED, "not an HTTP-date"),
    "sunset-after-deadline": (fields(DEPRECATED_AT, LATE), PASSED, FAILED, "later than the"),
    "sunset-before-deprecation": (fields(DEPRECATED_AFTER, SUNSET), PASSED, FAILED, "earlier"),
    "sunset-just-before-deadline": (fields(DEPRECATED_AT, JUST_BEFORE), PASSED, PASSED, "02-28"),
}


@pytest.mark.parametrize(
    ("headers", "deprecation", "sunset", "sunset_message"),
    ANNOUNCEMENTS.values(),
    ids=ANNOUNCEMENTS,
)
def test_announcement_headers(
    headers: tuple[tuple[str, str], ...],
    deprecation: Outcome,
    sunset: Outcome,
    sunset_message: str,
) -> None:
    findings = by_id(run_checks(observation(legacy_headers=headers)))
    assert findings["deprecation-header"].outcome is deprecation
    assert findings["sunset-header"].outcome is sunset
    assert sunset_message in findings["sunset-header"].message


def test_without_a_deadline_there_is_no_gate() -> None:
    findings = by_id(run_checks(observation(after=None)))
    assert "legacy-still-served" not in findings
    assert findings["status-426"].outcome is Outcome.FAILED
