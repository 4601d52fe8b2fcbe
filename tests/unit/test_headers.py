"""Request headers given to the probes: parsing, the environment, merging and redaction."""

from __future__ import annotations

import re

import pytest
from websockets.datastructures import Headers as WsHeaders
from websockets.exceptions import InvalidStatus, SecurityError
from websockets.http11 import Response as WsResponse

from pytest_upgrade._clients import _SameOriginConnect
from pytest_upgrade._credentials import (
    check_environment,
    expand,
    merge,
    parse_header_line,
    references,
    shown_headers,
)
from pytest_upgrade._requirements import parse_declared
from pytest_upgrade._targets import parse_target_line

ENV = {"API_TOKEN": "s3cret", "KEY": "k3y"}


@pytest.mark.parametrize(
    ("line", "header"),
    [
        ("Authorization: Bearer ${API_TOKEN}", ("Authorization", "Bearer ${API_TOKEN}")),
        ("X-Api-Key:abc ", ("X-Api-Key", "abc")),
        ("  X-Empty:", ("X-Empty", "")),
    ],
)
def test_parse_header_line(line: str, header: tuple[str, str]) -> None:
    assert parse_header_line(line) == header


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("Authorization Bearer abc", "a header is written 'Name: value'; the one given has no ':'"),
        ("X Y: z", "is not a token"),
        ("Host: example.com", "cannot be set on a probe"),
        ("Authorization: Bearer a\x01b", "got (value not shown)"),
        ("X-Trace: a\x7fb", "without CR, LF, NUL"),
    ],
)
def test_parse_header_line_errors(line: str, error: str) -> None:
    with pytest.raises(ValueError, match=re.escape(error)) as info:
        parse_header_line(line)
    assert "abc" not in str(info.value)


def test_references_and_expansion() -> None:
    headers = (("Authorization", "Bearer ${API_TOKEN}"), ("X-Key", "${KEY}-${KEY}"))
    assert references(headers) == ["API_TOKEN", "KEY"]
    assert expand(headers, ENV) == (("Authorization", "Bearer s3cret"), ("X-Key", "k3y-k3y"))
    plain = (("X-Trace", "$HOME and {x}"),)
    assert expand(plain, ENV) is plain  # only ${NAME} is a reference


@pytest.mark.parametrize(
    ("environ", "error"),
    [
        ({}, "header Authorization: ${API_TOKEN} is not set in the environment"),
        ({"API_TOKEN": ""}, "${API_TOKEN} is set but empty"),
        (
            {"API_TOKEN": "a\r\nX-Injected: 1"},
            "holds CR, LF, control or non-ASCII characters (value not shown)",
        ),
        # A placeholder copied from a page ("…") cannot be sent: a usage error, not a crash.
        ({"API_TOKEN": "…"}, "holds CR, LF, control or non-ASCII characters (value not shown)"),
    ],
)
def test_check_environment(environ: dict[str, str], error: str) -> None:
    with pytest.raises(ValueError, match=re.escape(error)) as info:
        check_environment([("Authorization", "Bearer ${API_TOKEN}")], environ)
    assert "X-Injected" not in str(info.value)


def test_merge_lets_the_later_layer_win_by_name() -> None:
    run = (("Authorization", "Bearer run"), ("X-Run", "1"))
    deployment = (("authorization", "Bearer deployment"),)
    requirement = (("X-Requirement", "2"),)
    assert merge(run, deployment, requirement) == (
        ("X-Run", "1"),
        ("authorization", "Bearer deployment"),
        ("X-Requirement", "2"),
    )
    assert merge((), requirement) is requirement


def test_shown_headers() -> None:
    declared = (
        ("Authorization", "Bearer ${API_TOKEN}"),
        ("X-Key", "${KEY}"),
        ("Cookie", "session=${KEY}"),
    )
    sent = (
        *expand(declared, ENV),
        ("Proxy-Authorization", "Basic dXNlcjpwYXNz"),
        ("Sec-WebSocket-Version", "13"),
    )
    assert shown_headers(sent, declared) == (
        ("Authorization", "Bearer ${API_TOKEN}"),  # names the variable, holds no secret
        ("X-Key", "${KEY}"),
        ("Cookie", "***"),  # a credential's literal part next to a reference stays hidden
        ("Proxy-Authorization", "Basic ***"),
        ("Sec-WebSocket-Version", "13"),
    )


def test_a_declared_line_takes_quoted_headers() -> None:
    requirement = parse_declared(
        "h2 /v2/orders header='Authorization: Bearer ${API_TOKEN}' header=\"X-Tenant: a b\""
    )
    assert requirement.path == "/v2/orders"
    assert requirement.headers == (
        ("Authorization", "Bearer ${API_TOKEN}"),
        ("X-Tenant", "a b"),
    )


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("h2 / header='X-A: 1' header='x-a: 2'", "header 'x-a' is given twice"),
        ("h2 / header='X-A: 1", "cannot split the line into words: No closing quotation"),
        ("h2 / header=X-A", "a header is written 'Name: value'"),
    ],
)
def test_declared_header_errors(line: str, error: str) -> None:
    with pytest.raises(ValueError, match=re.escape(error)):
        parse_declared(line)


def test_a_target_line_takes_headers() -> None:
    line = parse_target_line(
        'https://a.example name=a header="X-Api-Key: ${KEY}"  # the staging API', where="t:1"
    )
    assert line is not None
    assert line.headers == (("X-Api-Key", "${KEY}"),)
    assert line.name == "a"


def test_the_async_websocket_follows_no_redirect_to_another_origin() -> None:
    def redirect(location: str) -> InvalidStatus:
        return InvalidStatus(WsResponse(302, "Found", WsHeaders({"Location": location})))

    client = _SameOriginConnect("wss://127.0.0.1:8443/ws", additional_headers=[("X-Key", "k")])
    assert client.process_redirect(redirect("/ws2")) == "wss://127.0.0.1:8443/ws2"
    refused = client.process_redirect(redirect("wss://other.example/ws"))
    assert isinstance(refused, SecurityError)
    assert "another origin" in str(refused)
