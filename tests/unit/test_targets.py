"""Fleets as written: target lines, --upgrade-target grouping, the deployments built from them."""

from __future__ import annotations

import pathlib

import pytest

from pytest_upgrade._model import HandshakeOutcome, TlsHandshake
from pytest_upgrade._targets import TargetLine, build_fleet, group_urls, parse_target_line
from pytest_upgrade.probes.endpoint import ClientTrust, Endpoint
from pytest_upgrade.probes.spec import ConnectionSpec
from pytest_upgrade.probes.target import HandshakeCache, HandshakeProbe
from support.observations import handshake


def test_a_line_names_urls_ca_and_name(tmp_path: pathlib.Path) -> None:
    (tmp_path / "ca.pem").write_text("x")
    line = parse_target_line(
        "https://a.example  http://a.example:8080 ca=ca.pem name=a  # comment",
        where="t.txt:3",
        base_dir=tmp_path,
    )
    assert line == TargetLine(
        ("https://a.example", "http://a.example:8080"), str(tmp_path / "ca.pem"), "a", "t.txt:3"
    )


@pytest.mark.parametrize("text", ["", "   ", "# a comment", "  # indented comment"])
def test_blank_and_comment_lines_are_nothing(text: str) -> None:
    assert parse_target_line(text, where="x") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a.example", "unexpected 'a.example'"),
        ("ca=x.pem", "no such file"),
        ("name=a", "no http:// or https:// URL"),
        ("https://", "is not an http:// or https:// URL with a host"),
        ("https://a.example:99999", "invalid port"),
        ("https://a.example certificate=x", "unexpected 'certificate=x'"),
    ],
)
def test_bad_lines_say_why(text: str, message: str, tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match=message):
        parse_target_line(text, where="x", base_dir=tmp_path)


@pytest.mark.parametrize(
    ("urls", "groups"),
    [
        # One https and one http URL: one deployment whatever the hosts (as before fleets).
        (["https://a", "http://b"], [("https://a", "http://b")]),
        (["http://a", "https://a"], [("http://a", "https://a")]),
        (["https://a"], [("https://a",)]),
        # Next to each other on the same host: one deployment; else each its own.
        (
            ["https://a", "http://a:8080", "https://b", "https://c", "http://c"],
            [("https://a", "http://a:8080"), ("https://b",), ("https://c", "http://c")],
        ),
        (["https://a", "https://b", "http://a"], [("https://a",), ("https://b",), ("http://a",)]),
        (["https://a:1", "https://a:2"], [("https://a:1",), ("https://a:2",)]),
        ([], []),
    ],
)
def test_target_urls_group_into_deployments(urls: list[str], groups: list[tuple[str, ...]]) -> None:
    assert group_urls(urls) == groups


def test_a_fleet_names_deployments_and_shares_trust() -> None:
    fleet = build_fleet(
        [
            TargetLine(("https://a.example", "http://a.example:8080")),
            TargetLine(("https://a.example:8443/api",)),
            TargetLine(("http://b.example",), name="b"),
        ],
        cafile=None,
    )
    assert [d.name for d in fleet] == ["a.example", "a.example:8443/api", "b"]
    assert fleet[0].target.http == Endpoint("http", "a.example", 8080)
    # One ClientTrust (and its TLS contexts) for every deployment trusting the same CA.
    assert fleet[0].target.trust is fleet[1].target.trust is fleet[2].target.trust


def test_a_fleet_refuses_a_name_twice_and_two_urls_of_a_scheme() -> None:
    with pytest.raises(ValueError, match=r"f:2: a second deployment named 'a' \(first: f:1\)"):
        build_fleet(
            [
                TargetLine(("https://a",), where="f:1"),
                TargetLine(("https://b",), name="a", where="f:2"),
            ],
            cafile=None,
        )
    with pytest.raises(ValueError, match="f:1: two https:// URLs"):
        build_fleet([TargetLine(("https://a", "https://b"), where="f:1")], cafile=None)


class _Counting(HandshakeProbe):
    calls = 0

    def __call__(self) -> TlsHandshake:
        type(self).calls += 1
        outcome = HandshakeOutcome.REFUSED if self.version == "TLSv1" else HandshakeOutcome.ERROR
        return handshake(self.version, outcome, f"call {type(self).calls}")


def test_the_handshake_cache_remembers_conclusive_answers_by_host_and_port() -> None:
    cache = HandshakeCache()
    trust = ClientTrust()
    base = Endpoint("https", "a.example", 443)
    other_path = Endpoint("https", "a.example", 443, "/api")
    first = cache.handshake(_Counting(ConnectionSpec(base, trust, 5), "TLSv1"))
    again = cache.handshake(_Counting(ConnectionSpec(other_path, trust, 5), "TLSv1"))
    assert again is first  # reported as first seen, whatever the path
    assert _Counting.calls == 1
    cache.handshake(
        _Counting(ConnectionSpec(Endpoint("https", "a.example", 8443), trust, 5), "TLSv1")
    )
    assert _Counting.calls == 2  # another port is another server
    # An inconclusive answer is not remembered: the next requirement asks again.
    cache.handshake(_Counting(ConnectionSpec(base, trust, 5), "TLSv1.1"))
    cache.handshake(_Counting(ConnectionSpec(base, trust, 5), "TLSv1.1"))
    assert _Counting.calls == 4
    assert len(cache) == 2
