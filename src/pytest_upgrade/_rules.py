"""Pure parsers for the header fields and bodies the checks read.

Every function takes a field value (``str``) or a body (``bytes``) and returns
a value. None of them does I/O, and none raises on malformed input: what is
wrong is returned as data (an ``errors`` tuple, an ``error`` line, ``None`` or
``False``) so that a check can turn it into a finding with a precise message.

The grammar is the RFCs', cited next to each rule:

- RFC 9110 (HTTP Semantics): tokens, lists, ``Upgrade``, ``Connection``,
  media types, HTTP-dates;
- RFC 9111 (HTTP Caching): ``Cache-Control``;
- RFC 3986 (URI): URI references;
- RFC 9457 (Problem Details) over RFC 8259 (JSON): problem+json bodies.

Field values are taken as a recipient sees them after field parsing: repeated
field lines combined with ", " (RFC 9110 §5.3). Leading and trailing
whitespace is not part of a field value (RFC 9110 §5.5), so it is ignored.
Non-ASCII characters stand for the ``obs-text`` octets (%x80-FF) they were
decoded from, whatever decoding the client used.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import NoReturn

__all__ = [
    "UNASSIGNED_WEBSOCKET_VERSION",
    "WEBSOCKET_GUID",
    "ConnectionHeader",
    "MediaType",
    "ProblemDocument",
    "UpgradeHeader",
    "UpgradeProtocol",
    "expected_accept",
    "is_token",
    "is_uri_reference",
    "parse_cache_control",
    "parse_connection",
    "parse_http_date",
    "parse_media_type",
    "parse_problem_json",
    "parse_upgrade",
    "split_list",
]

# --------------------------------------------------------------------------
# RFC 9110 §5.6: common syntax components

# RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-"
#                        / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
# (DIGIT and ALPHA are ASCII only, RFC 5234 Appendix B.1, hence no \w or \d.)
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_TOKEN_RE = re.compile(_TOKEN)

# RFC 9110 §5.6.3: OWS = *( SP / HTAB )
_WHITESPACE = " \t"
_OWS = r"[ \t]*"

# RFC 9110 §5.6.4: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
#   qdtext      = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
#   quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
_OBS_TEXT = "\x80-\U0010ffff"
_QUOTED_STRING = rf'"(?:[\t !#-\[\]-~{_OBS_TEXT}]|\\[\t -~{_OBS_TEXT}])*"'
_QUOTED_PAIR_RE = re.compile(r"\\(.)", re.DOTALL)


def _unquote(quoted: str) -> str:
    """The content of a well-formed quoted-string (RFC 9110 §5.6.4).

    "Recipients that process the value of a quoted-string MUST handle a
    quoted-pair as if it were replaced by the octet following the backslash."
    """
    return _QUOTED_PAIR_RE.sub(r"\1", quoted[1:-1])


def is_token(text: str) -> bool:
    """True when ``text`` is a token: ``1*tchar`` (RFC 9110 §5.6.2)."""
    return _TOKEN_RE.fullmatch(text) is not None


def split_list(value: str) -> list[str]:
    """The elements of a comma-separated list field (RFC 9110 §5.6.1).

    Commas inside a quoted-string (RFC 9110 §5.6.4), backslash quoted-pairs
    included, do not split; quoted strings are kept verbatim. OWS around each
    element is stripped, and empty elements are dropped: "a recipient MUST
    accept lists that contain empty list elements" and does not count them
    (RFC 9110 §5.6.1.2). An unterminated quoted-string runs to the end of the
    value; the element parsers then reject it.
    """
    elements: list[str] = []
    current: list[str] = []
    in_quotes = False
    escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif in_quotes:
            if char == "\\":
                escaped = True
            elif char == '"':
                in_quotes = False
        elif char == '"':
            in_quotes = True
        elif char == ",":
            elements.append("".join(current))
            current = []
            continue
        current.append(char)
    elements.append("".join(current))
    stripped = (element.strip(_WHITESPACE) for element in elements)
    return [element for element in stripped if element]


# --------------------------------------------------------------------------
# RFC 9110 §7.8: Upgrade


@dataclass(frozen=True)
class UpgradeProtocol:
    """One ``protocol`` of an ``Upgrade`` field, as sent (case preserved).

    Protocol names compare case-insensitively; the comparison is the
    caller's, so that reports can show what the server really sent.
    """

    name: str
    version: str | None = None

    def __str__(self) -> str:
        return self.name if self.version is None else f"{self.name}/{self.version}"


@dataclass(frozen=True)
class UpgradeHeader:
    """A parsed ``Upgrade`` field: the well-formed protocols, and the problems."""

    protocols: tuple[UpgradeProtocol, ...]
    errors: tuple[str, ...]

    @property
    def valid(self) -> bool:
        """True when the field is ``1#protocol`` with nothing malformed."""
        return not self.errors and bool(self.protocols)


def _protocol_problem(element: str) -> str | None:
    """Why ``element`` is not ``protocol-name ["/" protocol-version]``, or None.

    RFC 9110 §7.8: protocol = protocol-name ["/" protocol-version], where
    both are tokens; no whitespace is allowed around the "/".
    """
    name, slash, version = element.partition("/")
    if '"' in element:
        return "a quoted-string is not allowed"
    if name.endswith((" ", "\t")) or version.startswith((" ", "\t")):
        return 'whitespace around "/" is not allowed'
    if not name:
        return "the protocol name is empty"
    if slash and not version:
        return "the protocol version is empty"
    if "/" in version:
        return 'more than one "/"'
    for char in name + version:
        if not _TOKEN_RE.fullmatch(char):
            return f"{char!r} is not a token character"
    return None


def parse_upgrade(value: str) -> UpgradeHeader:
    """Parse an ``Upgrade`` field value (RFC 9110 §7.8).

    Upgrade = 1#protocol; an empty list is an error, since the field must name
    at least one protocol. Each malformed element gives one error line and is
    left out of ``protocols``; the well-formed ones are kept in order.
    """
    protocols: list[UpgradeProtocol] = []
    errors: list[str] = []
    elements = split_list(value)
    if not elements:
        errors.append("Upgrade lists no protocol")
    for element in elements:
        problem = _protocol_problem(element)
        if problem is None:
            name, slash, version = element.partition("/")
            protocols.append(UpgradeProtocol(name, version if slash else None))
        else:
            errors.append(f'{element!r} is not token ["/" token] ({problem})')
    return UpgradeHeader(tuple(protocols), tuple(errors))


# --------------------------------------------------------------------------
# RFC 9110 §7.6.1: Connection


@dataclass(frozen=True)
class ConnectionHeader:
    """A parsed ``Connection`` field: lower-cased options, and the problems."""

    options: tuple[str, ...]
    errors: tuple[str, ...]


def parse_connection(value: str) -> ConnectionHeader:
    """Parse a ``Connection`` field value (RFC 9110 §7.6.1).

    Connection = #connection-option; connection-option = token. "Connection
    options are case-insensitive", so options are lower-cased. An empty list
    is allowed by ``#``, so it is not an error here.
    """
    options: list[str] = []
    errors: list[str] = []
    for element in split_list(value):
        if is_token(element):
            options.append(element.lower())
        else:
            errors.append(f"{element!r} is not a connection-option token")
    return ConnectionHeader(tuple(options), tuple(errors))


# --------------------------------------------------------------------------
# RFC 9110 §8.3.1: media types


@dataclass(frozen=True)
class MediaType:
    """A parsed media type: type and subtype lower-cased, parameters in order.

    Parameter names are lower-cased and values unquoted; values keep their
    case, since only some parameters (e.g. charset) are case-insensitive.
    """

    type: str
    subtype: str
    parameters: tuple[tuple[str, str], ...] = ()

    @property
    def essence(self) -> str:
        return f"{self.type}/{self.subtype}"


# RFC 9110 §8.3.1: media-type = type "/" subtype parameters
_MEDIA_TYPE_RE = re.compile(rf"({_TOKEN})/({_TOKEN})")
# RFC 9110 §5.6.6: parameters      = *( OWS ";" OWS [ parameter ] )
#                  parameter       = parameter-name "=" parameter-value
#                  parameter-value = ( token / quoted-string )
# No whitespace is allowed around "=".
_PARAMETER_RE = re.compile(rf"{_OWS};{_OWS}(?:({_TOKEN})=({_TOKEN}|{_QUOTED_STRING}))?")


def parse_media_type(value: str) -> MediaType | None:
    """Parse a media type such as a ``Content-Type`` value (RFC 9110 §8.3.1).

    Returns None when the value is not ``type "/" subtype parameters``.
    The type, subtype and parameter names are case-insensitive (RFC 9110
    §8.3.1, §5.6.6), so they are lower-cased.
    """
    text = value.strip(_WHITESPACE)
    match = _MEDIA_TYPE_RE.match(text)
    if match is None:
        return None
    parameters: list[tuple[str, str]] = []
    position = match.end()
    while position < len(text):
        parameter = _PARAMETER_RE.match(text, position)
        if parameter is None:
            return None
        name, argument = parameter.group(1, 2)
        if name is not None:
            if argument.startswith('"'):
                argument = _unquote(argument)
            parameters.append((name.lower(), argument))
        position = parameter.end()
    return MediaType(match.group(1).lower(), match.group(2).lower(), tuple(parameters))


# --------------------------------------------------------------------------
# RFC 9111 §5.2: Cache-Control

# RFC 9111 §5.2: cache-directive = token [ "=" ( token / quoted-string ) ]
_CACHE_DIRECTIVE_RE = re.compile(rf"({_TOKEN})(?:=({_TOKEN}|{_QUOTED_STRING}))?")


def parse_cache_control(value: str) -> dict[str, str | None]:
    """Parse a ``Cache-Control`` field value (RFC 9111 §5.2).

    Cache-Control = #cache-directive. Directive names are case-insensitive
    and lower-cased; a quoted-string argument is unquoted, and a directive
    without argument maps to None. Malformed elements are ignored.

    A repeated directive keeps its first occurrence: for a directive with
    more than one value, RFC 9111 §4.2.1 says "either the first occurrence
    should be used or the response should be considered stale". Callers that
    want the stricter reading can look for duplicates themselves.
    """
    directives: dict[str, str | None] = {}
    for element in split_list(value):
        match = _CACHE_DIRECTIVE_RE.fullmatch(element)
        if match is None:
            continue
        name = match.group(1).lower()
        argument = match.group(2)
        if argument is not None and argument.startswith('"'):
            argument = _unquote(argument)
        directives.setdefault(name, argument)
    return directives


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


def parse_http_date(value: str, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """Parse an HTTP-date (RFC 9110 §5.6.7) into an aware UTC datetime, or None.

    HTTP-date = IMF-fixdate / obs-date; obs-date = rfc850-date / asctime-date.
    The formats are exact (case, spacing, two-digit fields), the date must
    exist and the day name must match it. ``now`` (default: the current time)
    only resolves the century of an rfc850-date's two-digit year; a naive
    ``now`` is taken as UTC.
    """
    text = value.strip(_WHITESPACE)
    if match := _IMF_FIXDATE_RE.fullmatch(text):
        day_name, day, month, year, hour, minute, second = match.groups()
        return _timestamp(_DAY_NAMES.index(day_name), int(year), month, day, hour, minute, second)
    if match := _ASCTIME_DATE_RE.fullmatch(text):
        day_name, month, day, hour, minute, second, year = match.groups()
        return _timestamp(_DAY_NAMES.index(day_name), int(year), month, day, hour, minute, second)
    if match := _RFC850_DATE_RE.fullmatch(text):
        day_name, day, month, year, hour, minute, second = match.groups()
        if now is None:
            now = dt.datetime.now(dt.UTC)
        elif now.tzinfo is None:
            now = now.replace(tzinfo=dt.UTC)
        else:
            now = now.astimezone(dt.UTC)
        fields = (_MONTHS.index(month) + 1, int(day), int(hour), int(minute), int(second))
        full_year = _full_year(int(year), fields, now)
        return _timestamp(
            _LONG_DAY_NAMES.index(day_name), full_year, month, day, hour, minute, second
        )
    return None


# --------------------------------------------------------------------------
# RFC 3986 §4.1: URI-reference, built from the collected ABNF of Appendix A

_UNRESERVED = r"A-Za-z0-9\-._~"  # §2.3
_SUB_DELIMS = r"!$&'()*+,;="  # §2.2
_PCT_ENCODED = "%[0-9A-Fa-f]{2}"  # §2.1
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT_ENCODED})"  # §3.3
_SCHEME = r"[A-Za-z][A-Za-z0-9+\-.]*"  # §3.1

# §3.2.2: host = IP-literal / IPv4address / reg-name
_DEC_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9][0-9]|[0-9])"
_IPV4_ADDRESS = rf"{_DEC_OCTET}(?:\.{_DEC_OCTET}){{3}}"
_H16 = "[0-9A-Fa-f]{1,4}"
_LS32 = rf"(?:{_H16}:{_H16}|{_IPV4_ADDRESS})"
_IPV6_ADDRESS = (
    "(?:"
    + "|".join(
        [
            rf"(?:{_H16}:){{6}}{_LS32}",
            rf"::(?:{_H16}:){{5}}{_LS32}",
            rf"(?:{_H16})?::(?:{_H16}:){{4}}{_LS32}",
            rf"(?:(?:{_H16}:){{0,1}}{_H16})?::(?:{_H16}:){{3}}{_LS32}",
            rf"(?:(?:{_H16}:){{0,2}}{_H16})?::(?:{_H16}:){{2}}{_LS32}",
            rf"(?:(?:{_H16}:){{0,3}}{_H16})?::{_H16}:{_LS32}",
            rf"(?:(?:{_H16}:){{0,4}}{_H16})?::{_LS32}",
            rf"(?:(?:{_H16}:){{0,5}}{_H16})?::{_H16}",
            rf"(?:(?:{_H16}:){{0,6}}{_H16})?::",
        ]
    )
    + ")"
)
# ABNF literals are case-insensitive (RFC 5234 §2.3), so "v" is also "V".
_IPVFUTURE = rf"[vV][0-9A-Fa-f]+\.[{_UNRESERVED}{_SUB_DELIMS}:]+"
_IP_LITERAL = rf"\[(?:{_IPV6_ADDRESS}|{_IPVFUTURE})\]"
_REG_NAME = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT_ENCODED})*"
_HOST = rf"(?:{_IP_LITERAL}|{_IPV4_ADDRESS}|{_REG_NAME})"
# §3.2: authority = [ userinfo "@" ] host [ ":" port ]
_USERINFO = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT_ENCODED})*"
_AUTHORITY = rf"(?:{_USERINFO}@)?{_HOST}(?::[0-9]*)?"

# §3.3: paths
_SEGMENT = rf"{_PCHAR}*"
_SEGMENT_NZ = rf"{_PCHAR}+"
_SEGMENT_NZ_NC = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}@]|{_PCT_ENCODED})+"
_PATH_ABEMPTY = rf"(?:/{_SEGMENT})*"
_PATH_ABSOLUTE = rf"/(?:{_SEGMENT_NZ}(?:/{_SEGMENT})*)?"
_PATH_NOSCHEME = rf"{_SEGMENT_NZ_NC}(?:/{_SEGMENT})*"
_PATH_ROOTLESS = rf"{_SEGMENT_NZ}(?:/{_SEGMENT})*"

# §3.4 query, §3.5 fragment: *( pchar / "/" / "?" )
_QUERY = rf"(?:{_PCHAR}|[/?])*"
_QUERY_AND_FRAGMENT = rf"(?:\?{_QUERY})?(?:#{_QUERY})?"

# §3: URI = scheme ":" hier-part [ "?" query ] [ "#" fragment ]
_HIER_PART = rf"(?://{_AUTHORITY}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_PATH_ROOTLESS}|)"
_URI = rf"{_SCHEME}:{_HIER_PART}{_QUERY_AND_FRAGMENT}"
# §4.2: relative-ref = relative-part [ "?" query ] [ "#" fragment ]
_RELATIVE_PART = rf"(?://{_AUTHORITY}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_PATH_NOSCHEME}|)"
_RELATIVE_REF = rf"{_RELATIVE_PART}{_QUERY_AND_FRAGMENT}"
# §4.1: URI-reference = URI / relative-ref
_URI_REFERENCE_RE = re.compile(rf"{_URI}|{_RELATIVE_REF}")


def is_uri_reference(text: str) -> bool:
    """True when ``text`` is a URI-reference (RFC 3986 §4.1).

    The empty string is one (an empty relative-ref, "the current document").
    Only ASCII is allowed: an IRI (RFC 3987) with raw non-ASCII characters is
    not a URI reference until they are percent-encoded.
    """
    return _URI_REFERENCE_RE.fullmatch(text) is not None


# --------------------------------------------------------------------------
# RFC 9457 §3: problem+json bodies


@dataclass(frozen=True)
class ProblemDocument:
    """A problem+json body: the JSON object's members, or why there are none.

    Exactly one of ``members`` and ``error`` is None.
    """

    # Left out of the hash: a dict is unhashable, and equal documents still
    # hash equal through ``error``.
    members: dict[str, object] | None = field(hash=False)
    error: str | None


class _NotJson(ValueError):
    """A JSON-like constant that RFC 8259 does not allow."""


def _reject_constant(name: str) -> NoReturn:
    # RFC 8259 §6: "Numeric values that cannot be represented in the grammar
    # below (such as Infinity and NaN) are not permitted." Python's json
    # module accepts them unless told otherwise.
    raise _NotJson(name)


def _json_kind(value: object) -> str:
    """The RFC 8259 §3 name of a JSON value's kind."""
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def parse_problem_json(body: bytes) -> ProblemDocument:
    """Parse a problem details body (RFC 9457 §3). Never raises.

    The body must be a JSON text (RFC 8259) in UTF-8 without a byte order
    mark (RFC 8259 §8.1: "Implementations MUST NOT add a byte order mark"),
    and its top-level value must be an object (RFC 9457 §3: "a problem
    details object"). Every ``error`` is one line saying what is wrong.
    Repeated member names keep the last value (RFC 8259 §4 leaves the
    behaviour unpredictable; this is what Python's json does).
    """
    if not body:
        return ProblemDocument(None, "the body is empty, not a JSON object")
    if body.startswith(b"\xef\xbb\xbf"):
        return ProblemDocument(
            None,
            "the body starts with a UTF-8 byte order mark at byte offset 0 "
            "(RFC 8259 §8.1 forbids it)",
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return ProblemDocument(
            None,
            f"the body is not valid UTF-8 at byte offset {exc.start}: "
            f"{exc.reason} (0x{body[exc.start]:02x})",
        )
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except _NotJson as exc:
        return ProblemDocument(None, f"the body contains {exc}, which is not JSON (RFC 8259 §6)")
    except json.JSONDecodeError as exc:
        return ProblemDocument(
            None, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        )
    except RecursionError:
        return ProblemDocument(None, "the JSON is nested too deeply to parse")
    except ValueError as exc:  # e.g. an integer longer than sys.get_int_max_str_digits()
        reason = " ".join(str(exc).split())
        return ProblemDocument(None, f"the JSON could not be parsed: {reason}")
    if not isinstance(document, dict):
        return ProblemDocument(None, f"the body is a JSON {_json_kind(document)}, not an object")
    return ProblemDocument(document, None)


# RFC 6455 §1.3: the GUID appended to the key before hashing.
# The Sec-WebSocket-Version the version probe sends. RFC 6455 §4.4 lets a
# server support several versions, and the IANA "WebSocket Version Number"
# registry (RFC 6455 §11.6) assigns 0-8 to the hybi drafts, reserves 9-12 and
# gives 13 to RFC 6455; servers legitimately accept drafts 7 and 8 (aiohttp
# does). 99 is syntactically valid (§4.3 allows 0-255) and unassigned in that
# registry, so no implementation can claim to support it: a 101 to it is a
# fault, and a refusal listing the supported versions is the answer §4.2.2
# requires.
UNASSIGNED_WEBSOCKET_VERSION = "99"

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def expected_accept(key: str) -> str:
    """Sec-WebSocket-Accept for ``key``: base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2)."""
    # A valid key is base64 (ASCII); anything else still hashes, as UTF-8.
    digest = hashlib.sha1((key + WEBSOCKET_GUID).encode("utf-8", "replace"), usedforsecurity=False)
    return base64.b64encode(digest.digest()).decode("ascii")
