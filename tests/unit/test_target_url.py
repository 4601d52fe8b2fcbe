"""Target base URLs as HTTP carries them, or refused with the reason (issue 35): no sockets."""

from __future__ import annotations

import pytest

from pytest_upgrade._targets import parse_target_line
from pytest_upgrade.grammar.target_url import BaseUrl, parse_base_url
from pytest_upgrade.probes.endpoint import Endpoint


@pytest.mark.parametrize(
    ("url", "parts"),
    [
        ("https://a.example", BaseUrl("https", "a.example", 443, "")),
        ("HTTPS://A.Example:8443/", BaseUrl("https", "a.example", 8443, "")),
        ("Http://a.example/api/", BaseUrl("http", "a.example", 80, "/api")),
        # IDNA (RFC 5891): Host and SNI carry A-labels.
        ("https://bücher.test:8443", BaseUrl("https", "xn--bcher-kva.test", 8443, "")),
        # What a request-target cannot carry is percent-encoded as UTF-8 (RFC 3986 §2.1).
        ("https://127.0.0.2:8443/über", BaseUrl("https", "127.0.0.2", 8443, "/%C3%BCber")),
        ("https://h/a b/c", BaseUrl("https", "h", 443, "/a%20b/c")),
        ("https://h/already%20encoded", BaseUrl("https", "h", 443, "/already%20encoded")),
        ("https://h/;v=1/@x", BaseUrl("https", "h", 443, "/;v=1/@x")),
        ("https://[::1]:8443/x", BaseUrl("https", "::1", 8443, "/x")),
        ("https://h.example./x", BaseUrl("https", "h.example", 443, "/x")),
    ],
)
def test_what_http_can_carry(url: str, parts: BaseUrl) -> None:
    assert parse_base_url(url) == parts


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "https://user:secret@h/x",
            r"credentials in a target URL are not sent \(RFC 9110 §4.2.4\)",
        ),
        ("https://user@h", "credentials"),
        ("https://h/q?token=abc", "cannot carry a query"),
        ("https://h/q?", "cannot carry a query"),
        ("https://h/x#top", "a fragment is never sent"),
        ("https://h/100%", "'%' that is not a %XX escape"),
        ("https://h:99999", "invalid port"),
        ("https://h:0", "invalid port"),
        ("https://h:8a", "invalid port"),
        ("ftp://h", "not an http:// or https:// URL"),
        ("https://", "not an http:// or https:// URL"),
        ("https://h_x!/", "characters a host name cannot have"),
        ("https://[zz]/", "does not appear to be an IPv4 or IPv6 address"),
    ],
)
def test_what_it_cannot_is_refused_by_name(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_base_url(url)


def test_the_endpoint_sends_what_was_parsed() -> None:
    endpoint = Endpoint.from_url("HTTPS://Bücher.test:8443/über")
    assert endpoint.url("/v2") == "https://xn--bcher-kva.test:8443/%C3%BCber/v2"
    assert endpoint.target("/v2") == "/%C3%BCber/v2"
    assert endpoint.target("/v2").isascii()


def test_a_targets_line_takes_any_case_of_the_scheme() -> None:
    line = parse_target_line("HTTPS://a.example  Http://a.example:8080", where="t:1")
    assert line is not None
    assert line.urls == ("HTTPS://a.example", "Http://a.example:8080")
    with pytest.raises(ValueError, match="credentials"):
        parse_target_line("https://u:p@a.example", where="t:1")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:secret@h/x", "'https://***@h/x'"),
        ("https://h/q?token=secret#top", "'https://h/q?***#top'"),
        ("https://user:secret@h:99999/q?token=secret", "'https://***@h:99999/q?***'"),
    ],
)
def test_an_error_never_shows_the_credentials_or_the_query(url: str, shown: str) -> None:
    with pytest.raises(ValueError, match=r"^'https://") as raised:
        parse_base_url(url)
    assert "secret" not in str(raised.value)
    assert str(raised.value).startswith(shown)
