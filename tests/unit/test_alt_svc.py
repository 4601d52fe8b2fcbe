"""The Alt-Svc parser (RFC 7838 §3): hand-made values and arbitrary ones; no socket."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_upgrade.grammar import DEFAULT_MAX_AGE, Alternative, parse_alt_svc


def test_the_usual_advertisement() -> None:
    parsed = parse_alt_svc('h3=":443"; ma=86400')
    assert parsed.valid
    assert not parsed.clear
    assert parsed.alternatives == (
        Alternative("h3", "", 443, max_age=86400, parameters=(("ma", "86400"),)),
    )
    assert str(parsed.alternatives[0]) == 'h3=":443"; ma=86400'


def test_several_alternatives_hosts_and_parameters() -> None:
    parsed = parse_alt_svc(
        'h3-29=":8443", h3="Alt.Example:443"; ma=60; persist=1, h3="[::1]:9443"; v="a,b"'
    )
    assert parsed.errors == ()
    draft, named, literal = parsed.alternatives
    assert (draft.protocol_id, draft.host, draft.port, draft.max_age) == ("h3-29", "", 8443, None)
    assert draft.freshness == DEFAULT_MAX_AGE  # RFC 7838 §3.1: 24 hours
    # Hosts compare case-insensitively (RFC 3986 §3.2.2); IP-literals lose their brackets.
    assert (named.host, named.port, named.max_age) == ("alt.example", 443, 60)
    assert named.parameters == (("ma", "60"), ("persist", "1"))
    assert (literal.host, literal.parameters) == ("::1", (("v", "a,b"),))


def test_percent_encoded_protocol_id() -> None:
    # RFC 7838 §3: protocol-id is the percent-encoded ALPN name ("h3" = "h%33").
    assert parse_alt_svc('h%33=":443"').alternatives[0].protocol_id == "h3"
    assert parse_alt_svc('w%3D%3Dx=":443"').alternatives[0].protocol_id == "w==x"


def test_clear_stands_alone_and_is_case_sensitive() -> None:
    assert parse_alt_svc("clear").clear
    assert parse_alt_svc(" clear ").valid
    mixed = parse_alt_svc('clear, h3=":443"')
    assert not mixed.clear
    assert "must stand alone" in mixed.errors[0]
    assert mixed.alternatives[0].port == 443
    assert not parse_alt_svc("Clear").valid


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "empty"),
        (",", "empty"),
        ("h3=:443", 'not protocol-id="[host]:port"'),
        ("h3=':443'", 'not protocol-id="[host]:port"'),
        ('h3="443"', 'has no ":" port'),
        ('h3=":0"', "not a port"),
        ('h3=":65536"', "not a port"),
        ('h3=":44x"', "not a port"),
        ('h3="a b:443"', "not a uri-host"),
        ('h3="[::1:443"', "not a uri-host"),
        ('h3=":443"; ma=-1', "not delta-seconds"),
        ('h3=":443"; ma="1.5"', "not delta-seconds"),
        ('h3=":443"; ma', "not ';' parameter=value"),
        ('h3=":443" ma=1', "not ';' parameter=value"),
        ('h%3=":443"', "percent-encoded"),
        ('"h3"=":443"', 'not protocol-id="[host]:port"'),
        ("h3", "not an alt-value"),
        ('h3=":443', 'not protocol-id="[host]:port"'),
    ],
)
def test_malformed_values_are_errors_not_exceptions(value: str, problem: str) -> None:
    parsed = parse_alt_svc(value)
    assert not parsed.valid
    assert parsed.alternatives == ()
    assert any(problem in error for error in parsed.errors), parsed.errors


def test_a_malformed_element_leaves_the_good_ones() -> None:
    parsed = parse_alt_svc('h3=":x", h3=":443"; ma=5')
    assert len(parsed.errors) == 1
    assert [a.port for a in parsed.alternatives] == [443]


ALT_SVC_ALPHABET = st.sampled_from(list('h3=":;, ma0123456789[]%-.\\"clearpersist\t\x7f\x80é'))


@settings(max_examples=500, deadline=None)
@given(st.text(ALT_SVC_ALPHABET, max_size=60) | st.text(max_size=60))
def test_arbitrary_values_never_raise(value: str) -> None:
    parsed = parse_alt_svc(value)
    assert parsed.valid == (not parsed.errors and (parsed.clear or bool(parsed.alternatives)))
    for alternative in parsed.alternatives:
        assert 0 < alternative.port <= 65535
        assert alternative.max_age is None or alternative.max_age >= 0


@settings(max_examples=200, deadline=None)
@given(
    st.from_regex(r"[a-z][a-z0-9\-]{0,8}", fullmatch=True),
    st.from_regex(r"[a-z0-9.\-]{0,12}", fullmatch=True),
    st.integers(1, 65535),
    st.none() | st.integers(0, 10**9),
)
def test_what_is_written_is_read_back(
    protocol_id: str, host: str, port: int, max_age: int | None
) -> None:
    value = f'{protocol_id}="{host}:{port}"' + (f"; ma={max_age}" if max_age is not None else "")
    (alternative,) = parse_alt_svc(value).alternatives
    assert (alternative.protocol_id, alternative.host, alternative.port) == (
        protocol_id,
        host,
        port,
    )
    assert alternative.max_age == max_age
