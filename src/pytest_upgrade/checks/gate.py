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
from .._verdict import Verdict
from ..grammar import parse_http_date
from ..protocols import REFUSED
from ..protocols.roles import UPGRADED
from .preconditions import on_the_legacy_answer, response_of
from .registry import Phase
from .registry import check as _check

__all__ = ["http_date", "parse_deprecation"]


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
    REFUSED,
    phase=Phase.ANNOUNCED,
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
    REFUSED,
    phase=Phase.ANNOUNCED,
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
    if (repeated := _repeated(response, "deprecation", expected)) is not None:
        return repeated
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
    "The legacy response carries one Sunset, an HTTP-date not yet past and no later than"
    " 00:00 UTC of the deadline day, and not earlier than Deprecation.",
    REFUSED,
    phase=Phase.ANNOUNCED,
)
@on_the_legacy_answer(served=True)
def check_sunset_header(observation: Observation, response: Response) -> Verdict:
    after = observation.requirement.after
    assert after is not None
    expected = f"Sunset: <an HTTP-date from now to {http_date(after)}>"
    value = response.combined("sunset")
    if value is None:
        return Verdict.violated(
            "the legacy response does not announce when it ends",
            expected=expected,
            actual="no Sunset field",
            diagnosis=(
                "Send Sunset with the date the legacy protocol stops (RFC 8594), e.g."
                f" Sunset: {http_date(after)}."
            ),
        )
    if (repeated := _repeated(response, "sunset", expected)) is not None:
        return repeated
    actual = f"Sunset: {value}"
    now = _as_of_instant(observation)
    sunset = parse_http_date(value, now=now)
    if sunset is None:
        return Verdict.violated(
            "Sunset is not an HTTP-date",
            expected=expected,
            actual=actual,
            diagnosis=f"Use the IMF-fixdate form of RFC 9110 §5.6.7, e.g. {http_date(after)}.",
        )
    return _judge_sunset(observation, response, sunset, expected=expected, actual=actual)


def _judge_sunset(
    observation: Observation, response: Response, sunset: dt.datetime, *, expected: str, actual: str
) -> Verdict:
    """A parsed Sunset against the deadline, the as-of day and Deprecation."""
    after = observation.requirement.after
    assert after is not None
    # The gate expects the 426 from 00:00 UTC of the deadline day (as_of >= after):
    # a Sunset later that day promises clients service the gate already refuses.
    if sunset > _midnight(after):
        return Verdict.violated(
            f"Sunset ({_moment(sunset)}) is later than the declared deadline"
            f" {after.isoformat()} (enforced from 00:00 UTC)",
            expected=expected,
            actual=actual,
            diagnosis="Clients will plan for the later date; announce the real cutover"
            f" (Sunset: {http_date(after)}), or declare the day after as the deadline.",
        )
    now = _as_of_instant(observation)
    if sunset < now:
        # RFC 8594 §3: a Sunset in the past means the resource may become
        # unavailable at any time: not the deadline promised.
        return Verdict.violated(
            f"Sunset ({_moment(sunset)}) is already past as of {_moment(now)}, before the"
            f" deadline {after.isoformat()}",
            expected=expected,
            actual=actual,
            diagnosis="A past Sunset tells clients the legacy protocol may stop at any time"
            f" (RFC 8594 §3): announce the cutover date, Sunset: {http_date(after)}.",
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
    return Verdict.ok(f"sunset announced for {_moment(sunset)}", expected=expected, actual=actual)


@_check(
    "upgraded-not-deprecated",
    Severity.SHOULD,
    "RFC 9745 §2, RFC 8594 §3",
    "The upgraded answer carries neither Deprecation nor Sunset: only the legacy protocol ends.",
    REFUSED,
    phase=Phase.GATED,
)
def check_upgraded_not_deprecated(observation: Observation) -> Verdict:
    response, reason = response_of(observation, UPGRADED)
    if response is None:
        return Verdict.skip(reason)
    expected = "no Deprecation or Sunset field on the upgraded answer"
    fields = [f"{name.title()}: {value}" for name, value in response.headers if name in _ANNOUNCING]
    if not fields:
        return Verdict.ok("the upgraded answer announces no deprecation", expected=expected)
    # RFC 9745 §2 and RFC 8594 §3 are about the resource: on the answer a client
    # gets over the required protocol, they say that the resource itself goes
    # away, to the clients that already moved (and, after the cutover, that it
    # is past its Sunset). The deadline (after=) is the legacy protocol's only.
    return Verdict.violated(
        "the upgraded answer announces the deprecation too: clients that already upgraded"
        " are told the resource goes away",
        expected=expected,
        actual=", ".join(fields),
        diagnosis="Send Deprecation and Sunset on the legacy answers only. nginx's `add_header"
        " ... always` adds them to every answer of the location: take the value from a"
        " `map $server_protocol` that is empty for the required protocol (nginx sends no"
        ' field with an empty value); Apache: `Header always set ... "expr=%{SERVER_PROTOCOL}'
        " != 'HTTP/2.0'\"`.",
    )


_ANNOUNCING = ("deprecation", "sunset")


def _repeated(response: Response, name: str, expected: str) -> Verdict | None:
    """A violation when the single-valued field ``name`` came in several field lines.

    Neither Sunset (one HTTP-date, which contains a comma) nor Deprecation
    (one sf-item) is a list, so a sender must not repeat it (RFC 9110 §5.3):
    combined, the values are no date at all.
    """
    values = response.values(name)
    if len(values) < 2:
        return None
    title = name.title()
    same = len(set(values)) == 1
    count = "twice" if len(values) == 2 else f"{len(values)} times"
    diagnosis = (
        f"The same {title} value is sent by two places in the server's configuration."
        " Apache httpd keeps two header tables, and `Header set` plus `Header always set`"
        " of one field sends both (the onsuccess and the always table): set it in one"
        " (`Header always set` alone; or an nginx `add_header` in two levels that both apply)."
        if same
        else f"Send one {title} field with one value."
    )
    return Verdict.violated(
        f"{title} appears {count}" + (" with the same value" if same else " with different values"),
        expected=f"one {expected}",
        actual=", ".join(f"{title}: {value}" for value in values),
        diagnosis=diagnosis,
    )


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _as_of_instant(observation: Observation) -> dt.datetime:
    """The moment the gate judges as of: when the probes ran if that was on the as-of
    day, else 00:00 UTC of the as-of day (``--upgrade-as-of`` rehearses another day)."""
    as_of = observation.as_of or observation.requirement.after  # hand-built values
    assert as_of is not None
    observed = observation.observed_at
    if observed is not None and observed.date() == as_of:
        return observed
    return _midnight(as_of)


def _moment(moment: dt.datetime) -> str:
    """2027-03-01, or 2027-03-01 12:00:00 UTC when not midnight."""
    if moment.time() == dt.time():
        return moment.date().isoformat()
    return f"{moment.date().isoformat()} {moment.strftime('%H:%M:%S')} UTC"


_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(day: dt.date) -> str:
    """00:00 UTC of ``day`` as an IMF-fixdate (RFC 9110 §5.6.7), for any year 0001-9999."""
    # Not strftime: it writes year 1 as "1", and its names follow the locale.
    return (
        f"{_DAY_NAMES[day.weekday()]}, {day.day:02d} {_MONTHS[day.month - 1]} {day.year:04d}"
        " 00:00:00 GMT"
    )
