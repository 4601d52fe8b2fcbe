"""Unit tests for marker-argument validation in ``pytest_upgrade._requirements``.

A bad requirement is a usage error raised at collection time, so every
message must name the bad value and, where there is a closed set, the
accepted ones.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from pytest_upgrade._model import Requirement
from pytest_upgrade._requirements import canonical_protocol, parse_requirement
from pytest_upgrade.protocols import PROTOCOLS


def parse(*args: Any, **kwargs: Any) -> Requirement:
    return parse_requirement(args, kwargs)


# -- the protocol token ------------------------------------------------------------


@pytest.mark.parametrize("token", ["h2", "H2", "HTTP/2", "http/2", "Http/2"])
def test_h2_and_its_alias_in_any_case(token: str) -> None:
    assert parse(token) == Requirement("h2")
    assert canonical_protocol(token) == "h2"


def test_defaults() -> None:
    requirement = parse("HTTP/2")
    assert requirement == Requirement(protocol="h2", path="/", method="GET", headers=(), after=None)


@pytest.mark.parametrize("token", ["h4", "HTTP/2.0", "h2 ", "gopher", "", 2, None, b"h2"])
def test_unknown_token_names_it_and_the_accepted_ones(token: object) -> None:
    with pytest.raises(ValueError, match="unknown protocol") as info:
        parse(token)
    message = str(info.value)
    assert repr(token) in message
    assert "'h2'" in message
    assert "'HTTP/2'" in message


def test_every_known_protocol_is_accepted() -> None:
    for token, info in PROTOCOLS.items():
        assert canonical_protocol(token) == token
        for alias in info.aliases:
            assert canonical_protocol(alias) == token


@pytest.mark.parametrize("args", [(), ("h2", "/path"), ("h2", "HTTP/2")])
def test_exactly_one_positional_argument(args: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError, match=f"exactly one protocol.*got {len(args)} positional"):
        parse_requirement(args, {})


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"pth": "/"}, "pth"),
        ({"timeout": 3, "verify": False}, "timeout, verify"),
    ],
)
def test_unknown_keyword_arguments_are_named(kwargs: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match="unknown keyword") as info:
        parse_requirement(("h2",), kwargs)
    message = str(info.value)
    assert named in message
    assert "path, method, headers, after" in message


# -- path -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/api/v1", "/search?q=http%2F2&page=2", "/a;b=c", "//x"])
def test_origin_form_paths_are_accepted(path: str) -> None:
    assert parse("h2", path=path).path == path


@pytest.mark.parametrize(
    "path",
    [
        "api",  # no leading slash
        "https://example.com/",  # absolute-form is not a path
        "",
        "/with space",
        "/tab\there",
        "/line\r\nbreak",
        "/page#fragment",
        "/caf\u00e9",  # non-ASCII must be percent-encoded
        None,
        b"/",
    ],
)
def test_bad_paths_are_rejected(path: object) -> None:
    with pytest.raises(ValueError, match="path") as info:
        parse("h2", path=path)
    assert repr(path) in str(info.value)


# -- method -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "OPTIONS", "PROPFIND", "M-SEARCH"])
def test_token_methods_are_accepted(method: str) -> None:
    assert parse("h2", method=method).method == method


@pytest.mark.parametrize("method", ["", "GET ", "GET /", "G(E)T", "P\u00d6ST", None, 1])
def test_bad_methods_are_rejected(method: object) -> None:
    with pytest.raises(ValueError, match="method must be a token") as info:
        parse("h2", method=method)
    assert repr(method) in str(info.value)


# -- headers ----------------------------------------------------------------------------


def test_headers_become_pairs_in_order() -> None:
    headers = {"Authorization": "Bearer x", "X-Trace": "  abc\t"}
    requirement = parse("h2", headers=headers)
    # OWS around a field value is not part of it (RFC 9110 §5.5)
    assert requirement.headers == (("Authorization", "Bearer x"), ("X-Trace", "abc"))


def test_no_headers_and_none_are_the_same() -> None:
    assert parse("h2", headers=None).headers == parse("h2", headers={}).headers == ()


@pytest.mark.parametrize("headers", [[("X-A", "b")], "X-A: b", 42])
def test_headers_must_be_a_dict(headers: object) -> None:
    with pytest.raises(ValueError, match="headers must be a dict"):
        parse("h2", headers=headers)


@pytest.mark.parametrize(
    "name",
    [
        "Connection",
        "connection",
        "Host",
        "Upgrade",
        "UPGRADE",
        "Keep-Alive",
        "Transfer-Encoding",
        "TE",
    ],
)
def test_connection_specific_and_probe_headers_are_forbidden(name: str) -> None:
    with pytest.raises(ValueError, match="cannot be set on a probe") as info:
        parse("h2", headers={name: "x"})
    message = str(info.value)
    assert repr(name) in message
    assert "connection" in message  # the list of forbidden names
    assert "host" in message
    assert "upgrade" in message


@pytest.mark.parametrize("name", ["X Trace", "", "X:Trace", "\u00e9t\u00e9", 42])
def test_header_names_must_be_tokens(name: object) -> None:
    with pytest.raises(ValueError, match="is not a token"):
        parse("h2", headers={name: "x"})


@pytest.mark.parametrize(
    "value",
    ["a\r\nX-Injected: 1", "a\nb", "a\rb", "nul\0", "bell\x07", 42, None],
)
def test_header_values_without_cr_lf_or_controls(value: object) -> None:
    with pytest.raises(ValueError, match=re.escape("without CR, LF, NUL")) as info:
        parse("h2", headers={"X-Trace": value})
    assert repr(value) in str(info.value)


def test_header_value_may_hold_a_tab_inside() -> None:
    assert parse("h2", headers={"X-A": "a\tb"}).headers == (("X-A", "a\tb"),)


# -- after ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        ("2027-03-01", dt.date(2027, 3, 1)),
        (dt.date(2027, 3, 1), dt.date(2027, 3, 1)),
        (None, None),
    ],
    ids=["iso-string", "date", "none"],
)
def test_after_accepts_a_date(after: object, expected: dt.date | None) -> None:
    assert parse("h2", after=after).after == expected


def test_after_rejects_a_datetime() -> None:
    with pytest.raises(ValueError, match="not a datetime"):
        parse("h2", after=dt.datetime(2027, 3, 1, 12, 0))


@pytest.mark.parametrize(
    "after",
    ["2027-3-1", "tomorrow", "2027-02-30", "2027/03/01", "01.03.2027", "20270301", "", 2027],
)
def test_after_rejects_other_forms(after: object) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD") as info:
        parse("h2", after=after)
    assert repr(after) in str(info.value)


# -- Requirement.describe -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({}, "h2 GET /"),
        ({"path": "/api", "method": "POST"}, "h2 POST /api"),
        ({"after": "2027-03-01"}, "h2 GET / after=2027-03-01"),
    ],
)
def test_describe(kwargs: dict[str, Any], text: str) -> None:
    assert parse("HTTP/2", **kwargs).describe() == text
