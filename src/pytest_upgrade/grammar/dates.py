"""HTTP-date (RFC 9110 §5.6.7), all three formats a recipient must accept; and
the calendar date users write (``after=``, ``--upgrade-as-of``).

Pure: a field value or body in, a value out; nothing raises on malformed input.
"""

from __future__ import annotations

import datetime as dt
import re

from .syntax import WHITESPACE

# --------------------------------------------------------------------------
# The dates users write: RFC 3339 §5.6 full-date, YYYY-MM-DD and nothing else

_FULL_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_calendar_date(value: str) -> dt.date | None:
    """``YYYY-MM-DD`` (RFC 3339 §5.6 full-date) as a date, or None.

    The one parser of ``after=`` and ``--upgrade-as-of``: exactly four, two
    and two digits, a date that exists (0001-01-01 to 9999-12-31). The other
    forms ``date.fromisoformat`` accepts since Python 3.11 (``20261201``,
    ``2026-W49-1``) and an empty value are not dates here.
    """
    if not _FULL_DATE_RE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:  # 2026-02-30, 0000-01-01
        return None


# --------------------------------------------------------------------------
# RFC 9110 §5.6.7: HTTP-date

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_LONG_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# The names are case-sensitive (%s"..." in RFC 9110 §5.6.7).
_DAY_NAME = "(" + "|".join(_DAY_NAMES) + ")"
_LONG_DAY_NAME = "(" + "|".join(_LONG_DAY_NAMES) + ")"
_MONTH = "(" + "|".join(_MONTHS) + ")"
# time-of-day = hour ":" minute ":" second
_TIME_OF_DAY = "([0-9]{2}):([0-9]{2}):([0-9]{2})"

# IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT
# date1       = day SP month SP year   ; e.g., 02 Jun 1982
_IMF_FIXDATE_RE = re.compile(rf"{_DAY_NAME}, ([0-9]{{2}}) {_MONTH} ([0-9]{{4}}) {_TIME_OF_DAY} GMT")
# rfc850-date = day-name-l "," SP date2 SP time-of-day SP GMT
# date2       = day "-" month "-" 2DIGIT   ; e.g., 02-Jun-82
_RFC850_DATE_RE = re.compile(
    rf"{_LONG_DAY_NAME}, ([0-9]{{2}})-{_MONTH}-([0-9]{{2}}) {_TIME_OF_DAY} GMT"
)
# asctime-date = day-name SP date3 SP time-of-day SP year
# date3        = month SP ( 2DIGIT / ( SP DIGIT ) )   ; e.g., Jun  2
_ASCTIME_DATE_RE = re.compile(
    rf"{_DAY_NAME} {_MONTH} ([0-9]{{2}}| [0-9]) {_TIME_OF_DAY} ([0-9]{{4}})"
)


def _full_year(two_digits: int, fields: tuple[int, ...], now: dt.datetime) -> int:
    """The year of an rfc850-date (RFC 9110 §5.6.7).

    Recipients "MUST interpret a timestamp that appears to be more than 50
    years in the future as representing the most recent year in the past that
    had the same last two digits": so the year is the one with those digits
    that lies within the 100 years ending 50 years from now.
    """
    limit = (now.year + 50, now.month, now.day, now.hour, now.minute, now.second)
    year = now.year - now.year % 100 + two_digits
    if (year, *fields) > limit:
        year -= 100
    elif (year + 100, *fields) <= limit:
        year += 100
    return year


def _timestamp(
    day_name: int, year: int, month: str, day: str, hour: str, minute: str, second: str
) -> dt.datetime | None:
    """An aware UTC datetime, or None if the fields are not a real instant.

    RFC 9110 §5.6.7: hour 00-23, minute 00-59, second 00-60 ("23:59:60" is
    a leap second). ``datetime`` has no leap seconds, so 23:59:60 becomes the
    next instant, midnight. The day name must be the date's weekday.
    """
    seconds = int(second)
    leap = seconds == 60
    if leap:
        if (hour, minute) != ("23", "59"):
            return None
        seconds = 59
    try:
        stamp = dt.datetime(
            year, _MONTHS.index(month) + 1, int(day), int(hour), int(minute), seconds, tzinfo=dt.UTC
        )
        if stamp.weekday() != day_name:
            return None
        return stamp + dt.timedelta(seconds=1) if leap else stamp
    except (ValueError, OverflowError):  # 31 Feb, year 0000, hour 24, 9999 + leap
        return None


def parse_http_date(value: str, *, now: dt.datetime) -> dt.datetime | None:
    """Parse an HTTP-date (RFC 9110 §5.6.7) into an aware UTC datetime, or None.

    HTTP-date = IMF-fixdate / obs-date; obs-date = rfc850-date / asctime-date.
    The formats are exact (case, spacing, two-digit fields), the date must
    exist and the day name must match it. ``now`` (the evaluation time: the
    parser reads no clock) only resolves the century of an rfc850-date's
    two-digit year; a naive ``now`` is taken as UTC.
    """
    text = value.strip(WHITESPACE)
    if match := _IMF_FIXDATE_RE.fullmatch(text):
        day_name, day, month, year, hour, minute, second = match.groups()
        return _timestamp(_DAY_NAMES.index(day_name), int(year), month, day, hour, minute, second)
    if match := _ASCTIME_DATE_RE.fullmatch(text):
        day_name, month, day, hour, minute, second, year = match.groups()
        return _timestamp(_DAY_NAMES.index(day_name), int(year), month, day, hour, minute, second)
    if match := _RFC850_DATE_RE.fullmatch(text):
        day_name, day, month, year, hour, minute, second = match.groups()
        now = now.replace(tzinfo=dt.UTC) if now.tzinfo is None else now.astimezone(dt.UTC)
        fields = (_MONTHS.index(month) + 1, int(day), int(hour), int(minute), int(second))
        full_year = _full_year(int(year), fields, now)
        return _timestamp(
            _LONG_DAY_NAMES.index(day_name), full_year, month, day, hour, minute, second
        )
    return None
