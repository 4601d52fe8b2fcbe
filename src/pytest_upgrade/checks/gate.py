"""The deprecation gate: before a declared deadline (``after=``), the legacy
request must still be served and must announce its end.

RFC 9745 defines the Deprecation field (a structured-field date, RFC 9651
§3.3.7) and RFC 8594 the Sunset field (an HTTP-date). Deprecation is parsed
with http-sf, a maintained RFC 9651 implementation, not by hand.
"""

from __future__ import annotations

import datetime as dt

import http_sf

from .._model import Observation, Response, Severity
from ..grammar import parse_http_date
from .preconditions import ALL, evaluation_time, on_the_legacy_answer
from .registry import ANNOUNCED, Verdict
from .registry import check as _check

__all__ = ["parse_deprecation"]


def parse_deprecation(value: str) -> tuple[dt.datetime | None, str]:
    """The date of a Deprecation field value, or None and what is wrong with it.

    RFC 9745 §2.1: Deprecation = sf-date, for example ``@1688169599``.
    """
    try:
        parsed = http_sf.parse(value.encode("latin-1", "replace"), tltype="item")
    except Exception as exc:  # http-sf raises ValueError subclasses; never let one escape
        return None, f"not a structured-field item ({exc})"
    item = parsed[0] if isinstance(parsed, tuple) else parsed
    if isinstance(item, dt.datetime):
        # An sf-date counts seconds since the epoch in UTC; early http-sf
        # releases return it without a time zone.
        return (item if item.tzinfo else item.replace(tzinfo=dt.UTC)), ""
    if item is True or str(item).lower() == "true":
        # Drafts of RFC 9745 sent "true" (and later ?1); the RFC sends the date.
        return None, (
            f"{value!r} is the value of an old draft; RFC 9745 §2.1 wants the date:"
            " @<epoch seconds>"
        )
    return None, f"{value!r} is not a structured-field date (@<epoch seconds>, RFC 9651 §3.3.7)"


def _deadline(observation: Observation) -> str:
    after = observation.requirement.after
    return after.isoformat() if after else "?"


@_check(
    "legacy-still-served",
    Severity.MUST,
    "RFC 9745 §1, RFC 8594 §1",
    "Before the deadline, the legacy request still succeeds (2xx/3xx).",
    ALL,
    phase=ANNOUNCED,
)
@on_the_legacy_answer()
def check_legacy_still_served(observation: Observation, response: Response) -> Verdict:
    expected = f"2xx or 3xx until {_deadline(observation)}"
    if 200 <= response.status < 400:
        return Verdict.ok(
            "the legacy request is still served", expected=expected, actual=response.status_line
        )
    if response.status == 426:
        return Verdict.violated(
            f"already enforced before the deadline {_deadline(observation)}",
            expected=expected,
            actual=response.status_line,
            severity=Severity.INFO,
        )
    return Verdict.violated(
        f"the legacy request fails before the deadline {_deadline(observation)}",
        expected=expected,
        actual=response.status_line,
        diagnosis=(
            "Clients were promised the legacy protocol until the deadline: serve it (with"
            " Deprecation and Sunset fields) until then."
        ),
    )


@_check(
    "deprecation-header",
    Severity.SHOULD,
    "RFC 9745 §2",
    "The legacy response carries Deprecation as a structured-field date (@<epoch seconds>).",
    ALL,
    phase=ANNOUNCED,
)
@on_the_legacy_answer(served=True)
def check_deprecation_header(observation: Observation, response: Response) -> Verdict:
    expected = "Deprecation: @<epoch seconds>"
    value = response.combined("deprecation")
    if value is None:
        return Verdict.violated(
            "the legacy response does not announce its deprecation",
            expected=expected,
            actual="no Deprecation field",
            diagnosis="Send Deprecation: @<epoch seconds of the deprecation date> (RFC 9745).",
        )
    when, problem = parse_deprecation(value)
    if when is None:
        return Verdict.violated(
            f"Deprecation is invalid: {problem}", expected=expected, actual=f"Deprecation: {value}"
        )
    return Verdict.ok(
        f"deprecated as of {when.date().isoformat()}",
        expected=expected,
        actual=f"Deprecation: {value}",
    )


@_check(
    "sunset-header",
    Severity.MUST,
    "RFC 8594 §3, RFC 9745 §4",
    "The legacy response carries Sunset as an HTTP-date, no later than the deadline and not"
    " earlier than Deprecation.",
    ALL,
    phase=ANNOUNCED,
)
@on_the_legacy_answer(served=True)
def check_sunset_header(observation: Observation, response: Response) -> Verdict:
    after = observation.requirement.after
    assert after is not None
    expected = f"Sunset: <an HTTP-date no later than {after.isoformat()}>"
    value = response.combined("sunset")
    if value is None:
        return Verdict.violated(
            "the legacy response does not announce when it ends",
            expected=expected,
            actual="no Sunset field",
            diagnosis=(
                "Send Sunset with the date the legacy protocol stops (RFC 8594), e.g."
                f" Sunset: {_http_date(after)}."
            ),
        )
    actual = f"Sunset: {value}"
    observed = evaluation_time(observation, fallback=observation.as_of or after)
    assert observed is not None
    sunset = parse_http_date(value, now=observed)
    if sunset is None:
        return Verdict.violated(
            "Sunset is not an HTTP-date",
            expected=expected,
            actual=actual,
            diagnosis=f"Use the IMF-fixdate form of RFC 9110 §5.6.7, e.g. {_http_date(after)}.",
        )
    deadline_end = dt.datetime.combine(after, dt.time(), tzinfo=dt.UTC) + dt.timedelta(days=1)
    if sunset >= deadline_end:
        return Verdict.violated(
            f"Sunset ({sunset.date().isoformat()}) is later than the declared deadline"
            f" {after.isoformat()}",
            expected=expected,
            actual=actual,
            diagnosis="Clients will plan for the later date; announce the real cutover.",
        )
    deprecation = response.combined("deprecation")
    deprecated, _ = parse_deprecation(deprecation) if deprecation else (None, "")
    if deprecated is not None and sunset < deprecated:
        return Verdict.violated(
            f"Sunset ({sunset.date().isoformat()}) is earlier than Deprecation"
            f" ({deprecated.date().isoformat()})",
            expected="Sunset not earlier than Deprecation (RFC 9745 §4)",
            actual=f"{actual}, Deprecation: {deprecation}",
        )
    return Verdict.ok(
        f"sunset announced for {sunset.date().isoformat()}", expected=expected, actual=actual
    )


def _http_date(day: dt.date) -> str:
    moment = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")
