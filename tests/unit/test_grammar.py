"""Unit tests for the pure parsers in ``pytest_upgrade.grammar``.

Hand-made inputs only; nothing here opens a socket.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_upgrade import grammar as _rules
from pytest_upgrade.grammar import (
    ConnectionHeader,
    MediaType,
    ProblemDocument,
    UpgradeHeader,
    UpgradeProtocol,
    is_token,
    is_uri_reference,
    parse_cache_control,
    parse_connection,
    parse_http_date,
    parse_media_type,
    parse_problem_json,
    parse_upgrade,
    split_list,
)

UTC = dt.UTC
TCHARS = "!#$%&'*+-.^_`|~" + string.ascii_letters + string.digits
PROPERTY = settings(max_examples=200, deadline=None)


def test_exported_names() -> None:
    # other modules are written against these names: changing them is an API change
    assert _rules.__all__ == [
        "DEFAULT_MAX_AGE",
        "UNASSIGNED_WEBSOCKET_VERSION",
        "WEBSOCKET_GUID",
        "AltSvcField",
        "Alternative",
        "ConnectionHeader",
        "MediaType",
        "ProblemDocument",
        "UpgradeHeader",
        "UpgradeProtocol",
        "expected_accept",
        "is_token",
        "is_uri_reference",
        "parse_alt_svc",
        "parse_cache_control",
        "parse_calendar_date",
        "parse_connection",
        "parse_http_date",
        "parse_media_type",
        "parse_problem_json",
        "parse_upgrade",
        "split_list",
    ]
    assert all(hasattr(_rules, name) for name in _rules.__all__)


# --------------------------------------------------------------------------
# is_token


@pytest.mark.parametrize(
    "text",
    ["h2", "h2c", "HTTP", "websocket", "TLS", "1.1", TCHARS, "a", "!", "x-y_z.w~v"],
)
def test_is_token_accepts(text: str) -> None:
    assert is_token(text)


@pytest.mark.parametrize(
    "text",
    [
        "", " ", "a b", "a\tb", "HTTP/2", "a,b", "a;b", '"a"', "a=b", "(a)", "[a]", "{a}",
        "a:b", "a@b", "a?b", "a\\b",
        "é",  # DIGIT and ALPHA are ASCII only
        "٣",  # an Arabic-Indic digit: \d would accept it
        "a\n",  # $ would accept a trailing newline
        "a\x00", "a\x7f",
    ],
)  # fmt: skip
def test_is_token_rejects(text: str) -> None:
    assert not is_token(text)


# --------------------------------------------------------------------------
# split_list


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", []),
        ("a", ["a"]),
        ("a,b", ["a", "b"]),
        ("a, b", ["a", "b"]),
        ("a ,b", ["a", "b"]),
        ("  a  ,  b  ", ["a", "b"]),
        ("a\t,\tb", ["a", "b"]),
        ("a, ,b", ["a", "b"]),
        (",", []),
        (" , ", []),
        (",,a,,", ["a"]),
        ("\t,\t,", []),
        ("a b, c", ["a b", "c"]),
        ('a="x, y", b', ['a="x, y"', "b"]),
        ('"a,b"', ['"a,b"']),
        (r'"a\",b", c', [r'"a\",b"', "c"]),
        (r'"a\\",b', [r'"a\\"', "b"]),
        ("a\\,b", ["a\\", "b"]),  # a backslash outside quotes escapes nothing
        ('x="unterminated, y', ['x="unterminated, y']),
        ('"", b', ['""', "b"]),
        ("a\r\n, b", ["a\r\n", "b"]),  # only SP and HTAB are OWS
        ("a\u00a0, b", ["a\u00a0", "b"]),
    ],
)
def test_split_list(value: str, expected: list[str]) -> None:
    assert split_list(value) == expected


# --------------------------------------------------------------------------
# parse_upgrade


def proto(name: str, version: str | None = None) -> UpgradeProtocol:
    return UpgradeProtocol(name, version)


@pytest.mark.parametrize(
    ("value", "protocols"),
    [
        ("websocket", [proto("websocket")]),
        ("h2c", [proto("h2c")]),
        ("HTTP/2.0", [proto("HTTP", "2.0")]),
        ("TLS/1.2, HTTP/1.1", [proto("TLS", "1.2"), proto("HTTP", "1.1")]),
        ("WebSocket", [proto("WebSocket")]),  # case preserved
        ("a,b", [proto("a"), proto("b")]),
        ("a, , b", [proto("a"), proto("b")]),
        (",h2c,", [proto("h2c")]),
        ("\th2c\t", [proto("h2c")]),
        (
            "HTTP/2.0, SHTTP/1.3, IRC/6.9, RTA/x11",
            [proto("HTTP", "2.0"), proto("SHTTP", "1.3"), proto("IRC", "6.9"), proto("RTA", "x11")],
        ),
    ],
)
def test_parse_upgrade_valid(value: str, protocols: list[UpgradeProtocol]) -> None:
    header = parse_upgrade(value)
    assert header == UpgradeHeader(tuple(protocols), ())
    assert header.valid


@pytest.mark.parametrize(
    ("value", "protocols", "error"),
    [
        ("", [], "Upgrade lists no protocol"),
        (" , ", [], "Upgrade lists no protocol"),
        ("\t", [], "Upgrade lists no protocol"),
        ("HTTP/2.0/x", [], '\'HTTP/2.0/x\' is not token ["/" token] (more than one "/")'),
        (
            "HTTP / 2.0",
            [],
            '\'HTTP / 2.0\' is not token ["/" token] (whitespace around "/" is not allowed)',
        ),
        ("HTTP/ 2.0", [], "whitespace around"),
        ("HTTP /2.0", [], "whitespace around"),
        ("HTTP/", [], "the protocol version is empty"),
        ("/2.0", [], "the protocol name is empty"),
        ('"websocket"', [], "a quoted-string is not allowed"),
        ('h2c, "x,y"', [proto("h2c")], "a quoted-string is not allowed"),
        ("web socket", [], "' ' is not a token character"),
        ("h2c;q=1", [], "';' is not a token character"),
        ("HTTP/2.0@", [], "'@' is not a token character"),
        ("wébsocket", [], "'é' is not a token character"),
        ("h2c, HTTP/2.0/x, websocket", [proto("h2c"), proto("websocket")], "'HTTP/2.0/x'"),
    ],
)
def test_parse_upgrade_invalid(value: str, protocols: list[UpgradeProtocol], error: str) -> None:
    header = parse_upgrade(value)
    assert header.protocols == tuple(protocols)
    assert len(header.errors) == 1
    assert error in header.errors[0]
    assert not header.valid


def test_parse_upgrade_one_error_per_bad_element() -> None:
    header = parse_upgrade('a b, "c", ok, d/e/f')
    assert header.protocols == (proto("ok"),)
    assert len(header.errors) == 3
    assert all("\n" not in error for error in header.errors)


def test_parse_upgrade_error_is_one_line_for_control_characters() -> None:
    (error,) = parse_upgrade("a\r\nb").errors
    assert "\n" not in error
    assert "\r" not in error


def test_upgrade_protocol_str() -> None:
    assert str(proto("HTTP", "2.0")) == "HTTP/2.0"
    assert str(proto("websocket")) == "websocket"


def test_upgrade_values_are_frozen() -> None:
    protocol = proto("h2c")
    with pytest.raises(AttributeError):
        protocol.name = "x"  # type: ignore[misc]
    assert hash(protocol) == hash(proto("h2c"))


# --------------------------------------------------------------------------
# parse_connection


@pytest.mark.parametrize(
    ("value", "options", "errors"),
    [
        ("upgrade", ("upgrade",), 0),
        ("Upgrade", ("upgrade",), 0),
        ("UPGRADE", ("upgrade",), 0),
        ("keep-alive, Upgrade", ("keep-alive", "upgrade"), 0),
        ("close,\tupgrade", ("close", "upgrade"), 0),
        ("", (), 0),
        (" , ,", (), 0),
        ("upgrade, upgrade", ("upgrade", "upgrade"), 0),
        ("upgrade h2c", (), 1),
        ('"upgrade"', (), 1),
        ("upgrade, HTTP2-Settings, x/y", ("upgrade", "http2-settings"), 1),
    ],
)
def test_parse_connection(value: str, options: tuple[str, ...], errors: int) -> None:
    header = parse_connection(value)
    assert header.options == options
    assert len(header.errors) == errors
    assert isinstance(header, ConnectionHeader)


def test_parse_connection_error_names_the_element() -> None:
    assert parse_connection("upgrade, x/y").errors == ("'x/y' is not a connection-option token",)


# --------------------------------------------------------------------------
# parse_media_type


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("application/problem+json", MediaType("application", "problem+json")),
        ("Application/Problem+JSON", MediaType("application", "problem+json")),
        ("text/plain;charset=utf-8", MediaType("text", "plain", (("charset", "utf-8"),))),
        ("text/plain; charset=UTF-8", MediaType("text", "plain", (("charset", "UTF-8"),))),
        ("text/plain ; Charset=utf-8", MediaType("text", "plain", (("charset", "utf-8"),))),
        ("text/plain\t;\tcharset=utf-8", MediaType("text", "plain", (("charset", "utf-8"),))),
        ('text/plain; charset="utf-8"', MediaType("text", "plain", (("charset", "utf-8"),))),
        ('a/b; x="semi;colon, comma"', MediaType("a", "b", (("x", "semi;colon, comma"),))),
        (r'a/b; x="q\"d\\"', MediaType("a", "b", (("x", 'q"d\\'),))),
        ('a/b; x=""', MediaType("a", "b", (("x", ""),))),
        ("a/b;", MediaType("a", "b")),
        ("a/b; ;", MediaType("a", "b")),
        ("a/b;;x=1", MediaType("a", "b", (("x", "1"),))),
        ("a/b; x=1; x=2", MediaType("a", "b", (("x", "1"), ("x", "2")))),
        ("  text/html  ", MediaType("text", "html")),
        ("*/*", MediaType("*", "*")),
    ],
)
def test_parse_media_type_valid(value: str, expected: MediaType) -> None:
    assert parse_media_type(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "application",
        "a/b/c",
        "text/ plain",
        "text /plain",
        "/plain",
        "text/",
        "text/plain charset=utf-8",
        "text/plain; charset",
        "text/plain; charset=",
        "text/plain; charset = utf-8",
        "text/plain; charset =utf-8",
        "text/plain; charset= utf-8",
        'text/plain; charset="utf-8',
        'text/plain; charset="utf-8"x',
        "text/plain; charset=utf-8 x",
        "text/plain, text/html",
        "téxt/plain",
        '"text/plain"',
    ],
)
def test_parse_media_type_invalid(value: str) -> None:
    assert parse_media_type(value) is None


def test_media_type_essence() -> None:
    media_type = parse_media_type("Application/Problem+JSON; charset=utf-8")
    assert media_type is not None
    assert media_type.essence == "application/problem+json"


# --------------------------------------------------------------------------
# parse_cache_control


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", {}),
        ("no-store", {"no-store": None}),
        ("No-Store", {"no-store": None}),
        ("max-age=0", {"max-age": "0"}),
        ("Max-Age=600, Public", {"max-age": "600", "public": None}),
        ("s-maxage=60,\tprivate", {"s-maxage": "60", "private": None}),
        ('max-age="10"', {"max-age": "10"}),
        ('no-cache="Set-Cookie, X-Foo"', {"no-cache": "Set-Cookie, X-Foo"}),
        (r'ext="a\"b"', {"ext": 'a"b'}),
        ("max-age=1, max-age=2", {"max-age": "1"}),  # first occurrence wins
        ("MAX-AGE=1, max-age=2", {"max-age": "1"}),
        ("max-age = 5, no-store", {"no-store": None}),  # malformed: ignored
        ("max-age=, no-store", {"no-store": None}),
        ("max-age=1 2, public", {"public": None}),
        ('x="unterminated, public', {}),
        ("=5, public", {"public": None}),
        ("a, , b", {"a": None, "b": None}),
        ("max-age=abc", {"max-age": "abc"}),  # syntactically a token; meaning is the caller's
    ],
)
def test_parse_cache_control(value: str, expected: dict[str, str | None]) -> None:
    assert parse_cache_control(value) == expected


def test_parse_cache_control_keeps_directive_order() -> None:
    assert list(parse_cache_control("b, a, c=1")) == ["b", "a", "c"]


# --------------------------------------------------------------------------
# parse_http_date

EXPECTED_1994 = dt.datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
NOW = dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # the three examples of RFC 9110 §5.6.7
        ("Sun, 06 Nov 1994 08:49:37 GMT", EXPECTED_1994),
        ("Sunday, 06-Nov-94 08:49:37 GMT", EXPECTED_1994),
        ("Sun Nov  6 08:49:37 1994", EXPECTED_1994),
        ("Sun Nov 06 08:49:37 1994", EXPECTED_1994),  # date3 also allows 2DIGIT
        ("Thu, 01 Jan 1970 00:00:00 GMT", dt.datetime(1970, 1, 1, tzinfo=UTC)),
        ("Tue, 29 Feb 2000 23:59:59 GMT", dt.datetime(2000, 2, 29, 23, 59, 59, tzinfo=UTC)),
        ("Thu, 29 Feb 2024 00:00:00 GMT", dt.datetime(2024, 2, 29, tzinfo=UTC)),
        ("Fri, 31 Dec 9999 23:59:59 GMT", dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("Mon, 01 Jan 0001 00:00:00 GMT", dt.datetime(1, 1, 1, tzinfo=UTC)),
        ("  Sun, 06 Nov 1994 08:49:37 GMT\t", EXPECTED_1994),  # OWS is not part of the value
        # a leap second (RFC 9110 §5.6.7: 23:59:60) is the next instant
        ("Sat, 31 Dec 2016 23:59:60 GMT", dt.datetime(2017, 1, 1, tzinfo=UTC)),
        ("Sat Dec 31 23:59:60 2016", dt.datetime(2017, 1, 1, tzinfo=UTC)),
    ],
)
def test_parse_http_date_valid(value: str, expected: dt.datetime) -> None:
    parsed = parse_http_date(value, now=NOW)
    assert parsed == expected
    assert parsed is not None
    assert parsed.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Sun, 06 Nov 1994 08:49:37",  # no GMT
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 +0000",
        "Sun, 06 Nov 1994 08:49:37 gmt",  # names are case-sensitive
        "sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "SUN, 06 NOV 1994 08:49:37 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT",  # day is 2DIGIT
        "Sun, 06 Nov 94 08:49:37 GMT",  # year is 4DIGIT in IMF-fixdate
        "Sun, 06 Nov 1994 8:49:37 GMT",
        "Sun,  06 Nov 1994 08:49:37 GMT",
        "Sun 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 November 1994 08:49:37 GMT",
        "Sunday, 06 Nov 1994 08:49:37 GMT",  # long day name only in rfc850-date
        "Sun, 06-Nov-94 08:49:37 GMT",  # short day name not in rfc850-date
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sunday, 6-Nov-94 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",  # asctime needs SP SP DIGIT
        "Sun Nov   6 08:49:37 1994",
        "Sun Nov  6 08:49:37 1994 GMT",
        "Sun Nov  6 08:49:37 94",
        "Sun, 06 Nov 1994 08:49:37 GMT\n",
        "Sun, 06 Nov 1994 08:49:37 GMTx",
        "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT",
        "Sun, ٠٦ Nov 1994 08:49:37 GMT",  # non-ASCII digits
        "1994-11-06T08:49:37Z",
        "784111777",
        # invalid calendar dates and times
        "Fri, 31 Feb 2025 00:00:00 GMT",
        "Sat, 29 Feb 2025 00:00:00 GMT",
        "Thu, 29 Feb 1900 00:00:00 GMT",  # 1900 is not a leap year
        "Mon, 00 Jan 2024 00:00:00 GMT",
        "Wed, 31 Apr 2024 00:00:00 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:37 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 06 Nov 1994 08:49:60 GMT",  # a leap second only ends a day
        "Sat, 01 Jan 0000 00:00:00 GMT",  # no year 0
        "Fri, 31 Dec 9999 23:59:60 GMT",  # past datetime's range
        # wrong weekday
        "Mon, 06 Nov 1994 08:49:37 GMT",
        "Monday, 06-Nov-94 08:49:37 GMT",
        "Mon Nov  6 08:49:37 1994",
        "Sat, 31 Feb 2025 00:00:00 GMT",
    ],
)
def test_parse_http_date_invalid(value: str) -> None:
    assert parse_http_date(value, now=NOW) is None


@pytest.mark.parametrize(
    ("value", "now", "year"),
    [
        # RFC 9110 §5.6.7: more than 50 years in the future means the past century
        ("Sunday, 06-Nov-94 08:49:37 GMT", NOW, 1994),
        ("Wednesday, 01-Jan-70 00:00:00 GMT", NOW, 2070),  # 44.6 years ahead: kept
        ("Thursday, 01-Jan-70 00:00:00 GMT", dt.datetime(2019, 1, 1, tzinfo=UTC), 1970),
        ("Saturday, 01-Jan-00 00:00:00 GMT", NOW, 2000),
        ("Monday, 01-Jan-74 00:00:00 GMT", NOW, 2074),  # 48.6 years ahead: kept
        ("Thursday, 01-Jan-76 00:00:00 GMT", NOW, 1976),  # 50.6 years ahead: past
        ("Saturday, 01-Jun-75 11:59:59 GMT", NOW, 2075),  # just under 50 years
        ("Sunday, 01-Jun-75 12:00:01 GMT", NOW, 1975),  # just over 50 years
        ("Sunday, 02-Jan-01 00:00:00 GMT", dt.datetime(2099, 1, 1, tzinfo=UTC), 2101),
        ("Sunday, 31-Dec-00 00:00:00 GMT", dt.datetime(2049, 1, 1, tzinfo=UTC), 2000),
        ("Friday, 31-Dec-99 00:00:00 GMT", dt.datetime(2049, 1, 1, tzinfo=UTC), 1999),
        ("Thursday, 31-Dec-99 00:00:00 GMT", dt.datetime(2050, 1, 1, tzinfo=UTC), 2099),
        # a naive ``now`` is UTC; an aware one is converted
        ("Sunday, 06-Nov-94 08:49:37 GMT", dt.datetime(2025, 1, 1), 1994),
        (
            "Sunday, 01-Jun-75 12:00:01 GMT",
            dt.datetime(2025, 6, 1, 14, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            1975,
        ),
    ],
)
def test_parse_http_date_two_digit_year(value: str, now: dt.datetime, year: int) -> None:
    parsed = parse_http_date(value, now=now)
    assert parsed is not None
    assert parsed.year == year


def test_parse_http_date_two_digit_year_century_decides_leap_day() -> None:
    # 29 Feb 00 exists in 2000 (a leap year) but not in 2100
    assert parse_http_date("Tuesday, 29-Feb-00 00:00:00 GMT", now=NOW) == dt.datetime(
        2000, 2, 29, tzinfo=UTC
    )
    assert parse_http_date("Monday, 29-Feb-00 00:00:00 GMT", now=dt.datetime(2080, 1, 1)) is None


def test_parse_http_date_reads_no_clock() -> None:
    # The evaluation time is an input: evaluated in 2100, "94" is 2094, when
    # 6 November is a Saturday, so the day name no longer matches.
    text = "Sunday, 06-Nov-94 08:49:37 GMT"
    assert parse_http_date(text, now=NOW) == EXPECTED_1994
    assert parse_http_date(text, now=dt.datetime(2100, 1, 1, tzinfo=UTC)) is None
    assert parse_http_date("Saturday, 06-Nov-94 08:49:37 GMT", now=dt.datetime(2100, 1, 1)) == (
        EXPECTED_1994.replace(year=2094)
    )


# --------------------------------------------------------------------------
# is_uri_reference


@pytest.mark.parametrize(
    "text",
    [
        "",
        "about:blank",
        "https://e.x/p?q#f",
        "https://example.com/probs/upgrade-required",
        "/probs/upgrade",
        "probs/upgrade",
        "./a:b",
        "#x",
        "#",
        "?",
        "?q=1&r=2",
        ".",
        "..",
        "../a/b",
        "//example.com",
        "//example.com:",
        "//example.com:8443/x",
        "//user:pass@host/",
        "//@host",
        "//",
        "///a",
        "http:",
        "urn:ietf:rfc:9457",
        "tag:example.com,2025:upgrade",
        "mailto:someone@example.com",
        "HTTP://EXAMPLE.COM/",
        "a+b-c.d:x",
        "http://127.0.0.1/",
        "http://999.1.1.1/",  # not an IPv4address, but a valid reg-name
        "http://[::1]/",
        "http://[::]/",
        "http://[2001:db8::7]:80/c=GB?objectClass?one",
        "http://[2001:db8:0:0:0:0:2:1]/",
        "http://[1:2:3:4:5:6:7:8]/",
        "http://[::ffff:192.0.2.1]/",
        "http://[1:2:3:4:5:6:1.2.3.4]/",
        "http://[v7.fe80::1]/",
        "http://[V1F.a:b]/",
        "http://a/%7Euser/%41%6a",
        "http://a/b;p=1/c;q=2",
        "http://a/?/?#/?",
        "foo://example.com:8042/over/there?name=ferret#nose",
        "news:comp.infosystems.www.servers.unix",
        "tel:+1-816-555-1212",
        "ldap://[2001:db8::7]/c=GB?objectClass?one",
        "!$&'()*+,;=",
        "a@b",
        "a:b:c//d",  # scheme "a", path-rootless "b:c//d"
    ],
)
def test_is_uri_reference_accepts(text: str) -> None:
    assert is_uri_reference(text)


@pytest.mark.parametrize(
    "text",
    [
        "http://exa mple",
        "%zz",
        "%4",
        "a%",
        "ht tp:",
        " ",
        "about:blank ",
        "a\n",
        "http://a/b c",
        "http://a/\x7f",
        "http://a/ü",  # an IRI, not a URI
        "http://a/\u00a0",
        ":x",  # the empty scheme is not a scheme
        "1http://a",  # a scheme starts with a letter; and "1http:" is no relative path
        "//host:port",
        "//host:80:80",
        "//[::1",
        "//[::1]x",
        "//[1:2:3:4:5:6:7:8:9]",
        "//[1::2::3]",
        "//[12345::]",
        "//[::1.2.3.256]",
        "//[v.x]",
        "//[vg.x]",
        "//[v7.fe80::1%25en0]",  # RFC 6874 zone ids are not RFC 3986
        "//a@b@c",
        "#a#b",
        "http://a/[b]",
        "a<b>",
        '"x"',
        "a\\b",
        "{x}",
        "a|b",
        "a^b",
        "`a`",
    ],
)
def test_is_uri_reference_rejects(text: str) -> None:
    assert not is_uri_reference(text)


def test_is_uri_reference_is_fast_on_long_input() -> None:
    # no catastrophic backtracking on long near-misses
    for text in ("a" * 100_000 + " ", "//" + "a:" * 50_000 + "x", "/" + "%4" * 50_000):
        assert not is_uri_reference(text)
    assert is_uri_reference("http://a/" + "b/" * 50_000)


# --------------------------------------------------------------------------
# parse_problem_json


@pytest.mark.parametrize(
    ("body", "members"),
    [
        (b"{}", {}),
        (b' \r\n\t{"status": 426}\n ', {"status": 426}),
        (
            b'{"type": "about:blank", "title": "Upgrade Required", "status": 426}',
            {"type": "about:blank", "title": "Upgrade Required", "status": 426},
        ),
        ('{"detail": "HTTP/2 benutzen – danke"}'.encode(), {"detail": "HTTP/2 benutzen – danke"}),
        (b'{"a": {"b": [1, 2.5, true, false, null]}}', {"a": {"b": [1, 2.5, True, False, None]}}),
        (b'{"a": 1, "a": 2}', {"a": 2}),  # repeated names: the last one (Python's json)
        (b'{"s": "\\ud800"}', {"s": "\ud800"}),  # a lone surrogate escape is still JSON syntax
    ],
)
def test_parse_problem_json_valid(body: bytes, members: dict[str, object]) -> None:
    assert parse_problem_json(body) == ProblemDocument(members, None)


NO_NAME = "invalid JSON at line 1 column 2: Expecting property name enclosed in double quotes"
NOT_UTF8 = "the body is not valid UTF-8 at byte offset "


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", "the body is empty, not a JSON object"),
        (b"[]", "the body is a JSON array, not an object"),
        (b'[{"status": 426}]', "the body is a JSON array, not an object"),
        (b'"Upgrade Required"', "the body is a JSON string, not an object"),
        (b"426", "the body is a JSON number, not an object"),
        (b"1.5e3", "the body is a JSON number, not an object"),
        (b"true", "the body is a JSON boolean, not an object"),
        (b"null", "the body is a JSON null, not an object"),
        (b"{", NO_NAME),
        (b'{"a": }', "invalid JSON at line 1 column 7: Expecting value"),
        (b"{}\n{}", "invalid JSON at line 2 column 1: Extra data"),
        (b"   ", "invalid JSON at line 1 column 4: Expecting value"),
        (b"{'a': 1}", NO_NAME),
        (b'{"a": 1,}', "invalid JSON at line 1 column 9: "),
        (b'{"a": "line\nbreak"}', "invalid JSON at line 1 column 12: Invalid control character at"),
        (b"Upgrade Required", "invalid JSON at line 1 column 1: Expecting value"),
        (b'{"a": NaN}', "the body contains NaN, which is not JSON (RFC 8259 §6)"),
        (b'{"a": Infinity}', "the body contains Infinity, which is not JSON (RFC 8259 §6)"),
        (b'{"a": -Infinity}', "the body contains -Infinity, which is not JSON (RFC 8259 §6)"),
        (b"NaN", "the body contains NaN, which is not JSON (RFC 8259 §6)"),
        (b"\xef\xbb\xbf{}", "the body starts with a UTF-8 byte order mark at byte offset 0"),
        (b"\xff\xfe{\x00}\x00", NOT_UTF8 + "0: invalid start byte (0xff)"),
        (b'{"a": "\xe9"}', NOT_UTF8 + "7: invalid continuation byte (0xe9)"),
        (b'{"a": "\xc3', NOT_UTF8 + "7: unexpected end of data (0xc3)"),
        (b'{"a": "\xed\xa0\x80"}', NOT_UTF8 + "7: invalid continuation byte (0xed)"),
        (b'{"a": "\xc0\xaf"}', NOT_UTF8 + "7: invalid start byte (0xc0)"),
        (b"[" * 100_000, "the JSON is nested too deeply to parse"),
        (b'{"a":' * 100_000, "the JSON is nested too deeply to parse"),
        (b'{"n": ' + b"9" * 5000 + b"}", "the JSON could not be parsed: Exceeds the limit"),
    ],
)
def test_parse_problem_json_invalid(body: bytes, error: str) -> None:
    document = parse_problem_json(body)
    assert document.members is None
    assert document.error is not None
    assert document.error.startswith(error)
    assert "\n" not in document.error


def test_parse_problem_json_huge_but_flat_body() -> None:
    members: dict[str, object] = {f"ext{i}": "x" * 100 for i in range(20_000)}
    document = parse_problem_json(json.dumps(members).encode())
    assert document == ProblemDocument(members, None)


def test_parse_problem_json_nested_within_limits() -> None:
    body = b'{"a":' + b"[" * 500 + b"]" * 500 + b"}"
    document = parse_problem_json(body)
    assert document.error is None


def test_problem_document_is_hashable_despite_its_dict() -> None:
    documents = {
        parse_problem_json(b"{}"),
        parse_problem_json(b'{"a": 1}'),
        parse_problem_json(b""),
    }
    assert len(documents) == 3


# --------------------------------------------------------------------------
# properties

tokens = st.text(alphabet=TCHARS, min_size=1, max_size=12)
protocols = st.builds(UpgradeProtocol, tokens, st.none() | tokens)
separators = st.sampled_from([",", ", ", " ,", "\t,\t", " , , "])


@PROPERTY
@given(st.text())
def test_no_text_parser_raises(text: str) -> None:
    is_token(text)
    split_list(text)
    parse_upgrade(text)
    parse_connection(text)
    parse_media_type(text)
    parse_cache_control(text)
    parse_http_date(text, now=NOW)
    is_uri_reference(text)


@PROPERTY
@given(st.text(alphabet=TCHARS + ' \t,;=/"\\:@?#[]%', max_size=40))
def test_no_text_parser_raises_on_http_like_text(text: str) -> None:
    header = parse_upgrade(text)
    assert header.valid == (not header.errors and bool(header.protocols))
    assert all(is_token(option) for option in parse_connection(text).options)
    parse_media_type(text)
    assert all(name == name.lower() for name in parse_cache_control(text))
    assert all(element == element.strip(" \t") and element for element in split_list(text))
    is_uri_reference(text)


@PROPERTY
@given(st.binary())
def test_parse_problem_json_never_raises(body: bytes) -> None:
    document = parse_problem_json(body)
    assert (document.members is None) != (document.error is None)
    if document.error is not None:
        assert "\n" not in document.error


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@PROPERTY
@given(json_values)
def test_parse_problem_json_accepts_exactly_the_objects(value: object) -> None:
    document = parse_problem_json(json.dumps(value).encode())
    if isinstance(value, dict):
        assert document == ProblemDocument(value, None)
    else:
        assert document.members is None
        assert document.error is not None
        assert document.error.endswith("not an object")


@PROPERTY
@given(st.lists(protocols, min_size=1, max_size=6))
def test_parse_upgrade_round_trips(items: list[UpgradeProtocol]) -> None:
    header = parse_upgrade(", ".join(str(item) for item in items))
    assert header == UpgradeHeader(tuple(items), ())
    assert header.valid


@PROPERTY
@given(st.lists(tokens, max_size=6), separators)
def test_split_list_round_trips_tokens(items: list[str], separator: str) -> None:
    assert split_list(separator.join(items)) == items


@PROPERTY
@given(tokens)
def test_is_token_matches_the_alphabet(text: str) -> None:
    assert is_token(text)
    assert not is_token(text + " ")


@PROPERTY
@given(
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59))
)
def test_parse_http_date_round_trips_all_three_formats(moment: dt.datetime) -> None:
    moment = moment.replace(microsecond=0, tzinfo=UTC)
    day = DAYS[moment.weekday()]
    month = MONTHS[moment.month - 1]
    time = f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    imf_fixdate = f"{day[:3]}, {moment.day:02d} {month} {moment.year:04d} {time} GMT"
    asctime = f"{day[:3]} {month} {moment.day:2d} {time} {moment.year:04d}"
    assert parse_http_date(imf_fixdate, now=NOW) == moment
    assert parse_http_date(asctime, now=NOW) == moment
    if NOW.year - 49 <= moment.year <= NOW.year + 49:
        rfc850 = f"{day}, {moment.day:02d}-{month}-{moment.year % 100:02d} {time} GMT"
        assert parse_http_date(rfc850, now=NOW) == moment


def test_imf_fixdate_matches_the_stdlib_formatter() -> None:
    moment = dt.datetime(2031, 3, 9, 7, 5, 3, tzinfo=UTC)
    assert parse_http_date(email.utils.format_datetime(moment, usegmt=True), now=NOW) == moment


def test_expected_accept_matches_the_rfc_6455_example() -> None:
    # RFC 6455 §1.3: the key "dGhlIHNhbXBsZSBub25jZQ==" gives this accept value.
    assert _rules.expected_accept("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
