"""upgrade-stripped, websocket-version, upgrade-unswitchable and target-fitting diagnoses.

Hand-built exchanges, no sockets. The answers are the ones real servers gave
(tests/integration/test_server_matrix*.py records them): nginx with a plain
proxy_pass in front of the websockets library answers every request from
HTTP/1.0 with 505 and "unsupported HTTP version: HTTP/1.0".
"""

from __future__ import annotations

import dataclasses

import pytest

from pytest_upgrade._model import (
    AnsweredBy,
    Observation,
    Outcome,
    Requirement,
    Response,
    Severity,
)
from support.observations import TLS_HTTP11, exchange, response, run, said
from support.observations import observation as build
from support.outcomes import FAILED, PASSED, SKIPPED

WSS = "wss://127.0.0.1:8443/"
HTTPS = "https://127.0.0.1:8443/"
WEBSOCKET = Requirement("websocket")
KEY = "dGhlIHNhbXBsZSBub25jZQ=="


SWITCHED = response(
    101,
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
)
NGINX_505 = response(505, ("Server", "nginx/1.22.1"), body=b"unsupported HTTP version: HTTP/1.0\n")


def websocket_observation(
    plain: Response,
    handshake: Response,
    version: Response | None = None,
    *,
    answered_by: AnsweredBy = AnsweredBy.UNKNOWN,
) -> Observation:
    exchanges = [
        exchange("legacy", plain, url=HTTPS, offered="HTTP/1.1 over TLS"),
        exchange(
            "upgraded",
            handshake,
            url=WSS,
            offered="WebSocket handshake",
            request_headers=(("Sec-WebSocket-Key", KEY), ("Sec-WebSocket-Version", "13")),
            transport=TLS_HTTP11,
        ),
    ]
    if version is not None:
        exchanges.append(
            exchange(
                "version-probe",
                version,
                url=HTTPS,
                offered="HTTP/1.1 over TLS",
                request_headers=(("Sec-WebSocket-Version", "99"),),
                answered_by=answered_by,
            )
        )
    return build(WEBSOCKET, *exchanges)


# -- upgrade-stripped ------------------------------------------------------------


def test_a_505_to_the_handshake_behind_nginx_fails_and_names_the_proxy() -> None:
    finding = run("upgrade-stripped", websocket_observation(NGINX_505, NGINX_505))
    assert finding.outcome is Outcome.FAILED
    text = said(finding)
    assert "505" in text
    assert "Server: nginx/1.22.1" in text
    for fix in ("proxy_http_version 1.1", "upgrade=websocket", "HAProxy", "Caddy"):
        assert fix in finding.diagnosis


GATEWAY_PAGE = response(200, ("Via", "1.1 gateway"), body=b"<html>hello</html>")
ASK_WEBSOCKET = response(426, ("Upgrade", "websocket"), body=b"use a websocket")
ASK_AGAIN = response(426, ("Upgrade", "websocket"), body=b"another text")
BARE_426 = response(426, ("Upgrade", "websocket"))
NOT_A_WEBSOCKET = response(400, body=b"not a websocket request")
REFLECTING = response(426, ("Sec-WebSocket-Version", "13"))
HOME_PAGE = response(200, body=b"home page")
FORBIDDEN = response(403, body=b"origin not allowed")
NOT_FOUND = response(404, body=b"Not Found")


# The answers to the plain GET and to the handshake; upgrade-stripped's outcome and what
# its message and its diagnosis say ("": nothing asked of it).
@pytest.mark.parametrize(
    ("plain", "handshake", "outcome", "message", "diagnosis"),
    [
        (GATEWAY_PAGE, GATEWAY_PAGE, FAILED, "exactly like the plain GET", "Via: 1.1 gateway"),
        (ASK_WEBSOCKET, ASK_AGAIN, FAILED, "asking for the very upgrade", "names no Server or Via"),
        (BARE_426, SWITCHED, PASSED, "101", ""),
        (NOT_A_WEBSOCKET, REFLECTING, PASSED, "Sec-WebSocket-Version: 13", ""),
        (HOME_PAGE, FORBIDDEN, SKIPPED, "cannot tell", ""),
        (NOT_FOUND, NOT_FOUND, SKIPPED, "", ""),
    ],
    ids=[
        "answered-exactly-like-the-plain-get-fails",
        "a-426-asking-for-websocket-fails",
        "a-101-is-the-positive-evidence",
        "an-answer-reflecting-the-handshake-fields-is-evidence-too",
        "a-different-answer-without-evidence-is-skipped-never-passed",
        "a-404-to-both-is-not-called-stripping",
    ],
)
def test_upgrade_stripped(
    plain: Response, handshake: Response, outcome: Outcome, message: str, diagnosis: str
) -> None:
    finding = run("upgrade-stripped", websocket_observation(plain, handshake))
    assert finding.outcome is outcome
    assert message in finding.message
    assert diagnosis in finding.diagnosis


# -- websocket-version -------------------------------------------------------------


PLAIN_426 = response(426, ("Upgrade", "websocket"), body=b"missing Connection header")
HOME = response(200, body=b"home")


# id: the answers to the plain GET, the handshake and the handshake offering version
# 99 (unassigned by IANA); websocket-version's outcome, and what it says where.
VERSION_ANSWERS = {
    "a-101-to-an-unassigned-version-fails": (
        (PLAIN_426, SWITCHED, SWITCHED),
        FAILED,
        {"message": "Sec-WebSocket-Version: 99", "diagnosis": "IANA"},
    ),
    # Tornado and websockets-style refusals, with the list aiohttp would send.
    "a-400-listing-the-versions-passes": (
        (PLAIN_426, SWITCHED, response(400, ("Sec-WebSocket-Version", "13, 8, 7"))),
        PASSED,
        {"actual": "13, 8, 7"},
    ),
    # aiohttp 3.x: 400 "Unsupported version: 99", no Sec-WebSocket-Version.
    "a-refusal-without-the-versions-fails-when-upgrades-reach-the-server": (
        (PLAIN_426, SWITCHED, response(400, body=b"Unsupported version: 99")),
        FAILED,
        {"actual": "(none)"},
    ),
    "a-version-probe-that-never-reached-the-server-is-skipped": (
        (NGINX_505, NGINX_505, NGINX_505),
        SKIPPED,
        {"message": "upgrade-stripped"},
    ),
    "a-version-probe-answered-like-the-plain-get-is-skipped-without-a-101": (
        (HOME, HOME, HOME),
        SKIPPED,
        {"message": "exactly like the plain GET"},
    ),
}


@pytest.mark.parametrize(
    ("answers", "outcome", "says"), VERSION_ANSWERS.values(), ids=VERSION_ANSWERS
)
def test_websocket_version(
    answers: tuple[Response, Response, Response], outcome: Outcome, says: dict[str, str]
) -> None:
    finding = run("websocket-version", websocket_observation(*answers))
    assert finding.outcome is outcome
    for field, text in says.items():
        assert text in getattr(finding, field), (field, finding)


# -- diagnoses that fit the target ---------------------------------------------------


def test_a_5xx_on_a_live_target_says_what_the_answer_shows() -> None:
    failing = response(502, ("Server", "nginx/1.22.1"), body=b"Bad Gateway")
    observation = websocket_observation(PLAIN_426, failing)
    finding = run("upgraded-succeeds", observation)
    assert finding.outcome is Outcome.FAILED
    assert "traceback" not in finding.diagnosis
    assert "Server: nginx/1.22.1" in finding.diagnosis
    assert "Bad Gateway" in finding.diagnosis


def test_a_5xx_points_at_the_traceback_only_when_one_was_recorded() -> None:
    failing = response(500, body=b"Internal Server Error")
    observation = websocket_observation(PLAIN_426, failing)
    bundled = dataclasses.replace(observation, bundled=True)
    assert "traceback" not in run("upgraded-succeeds", bundled).diagnosis
    raised = dataclasses.replace(bundled, app_errors=("Traceback ...",))
    assert "traceback is shown below" in run("upgraded-succeeds", raised).diagnosis


def test_a_505_to_the_handshake_points_at_the_proxy_not_the_app() -> None:
    finding = run("upgraded-succeeds", websocket_observation(NGINX_505, NGINX_505))
    assert "upgrade-stripped" in finding.diagnosis
    assert "traceback" not in finding.diagnosis


def test_a_505_to_the_plain_get_of_a_websocket_route_names_the_proxy() -> None:
    finding = run("status-426", websocket_observation(NGINX_505, NGINX_505))
    assert "HTTP/1.0 from a reverse proxy" in finding.diagnosis
    assert "Server: nginx/1.22.1" in finding.diagnosis


# -- upgrade-unswitchable ----------------------------------------------------------


def ordinary(url: str, answer: Response, protocol: str = "h2") -> Observation:
    legacy = exchange("legacy", answer, url=url, offered="HTTP/1.1")
    return build(Requirement(protocol), legacy, target=url, observed_at=None)


def test_upgrade_h2_on_an_answer_over_tls_is_a_should_finding() -> None:
    # Apache httpd 2.4 with mod_http2 and Protocols h2 http/1.1 (see the matrix).
    apache = response(200, ("Upgrade", "h2"), ("Connection", "Upgrade"))
    finding = run("upgrade-unswitchable", ordinary(HTTPS, apache))
    assert finding.outcome is Outcome.WARNED
    assert finding.severity is Severity.SHOULD
    assert "ALPN" in finding.actual
    assert "Protocols http/1.1 h2 with ProtocolsHonorOrder off" in finding.diagnosis


def test_upgrade_h2c_over_tls_is_a_finding_but_not_over_cleartext() -> None:
    h2c = response(200, ("Upgrade", "h2c"), ("Connection", "Upgrade"))
    assert run("upgrade-unswitchable", ordinary(HTTPS, h2c)).outcome is Outcome.WARNED
    cleartext = ordinary("http://127.0.0.1:8080/", h2c, "h2c")
    assert run("upgrade-unswitchable", cleartext).outcome is Outcome.PASSED


def test_upgrade_on_a_426_or_a_101_is_judged_elsewhere() -> None:
    refusal = response(426, ("Upgrade", "h2"), ("Connection", "Upgrade"))
    finding = run("upgrade-unswitchable", ordinary(HTTPS, refusal))
    assert finding.outcome is Outcome.SKIPPED


def test_ordinary_answers_without_upgrade_pass_on_what_was_seen() -> None:
    finding = run("upgrade-unswitchable", ordinary(HTTPS, response(200)))
    assert finding.outcome is Outcome.PASSED
    assert "1 ordinary answer" in finding.message


def test_an_upgraded_426_on_a_live_target_points_at_the_terminating_proxy() -> None:
    behind_nginx = response(426, ("Server", "nginx/1.22.1"), ("Upgrade", "HTTP/2.0"))
    upgraded = exchange("upgraded", behind_nginx, url=HTTPS, offered="HTTP/2")
    observation = build(Requirement("h2"), upgraded, observed_at=None)
    diagnosis = run("upgraded-succeeds", observation).diagnosis
    assert "$server_protocol" in diagnosis
    assert "Server: nginx/1.22.1" in diagnosis
    bundled = dataclasses.replace(observation, bundled=True)
    assert "http_version" in run("upgraded-succeeds", bundled).diagnosis
    handshake = run("upgraded-succeeds", websocket_observation(PLAIN_426, PLAIN_426))
    assert "upgrade-stripped" in handshake.diagnosis


def test_header_diagnoses_mention_a_proxy_only_for_a_live_target() -> None:
    no_connection = response(426, ("Upgrade", "websocket"), ("Server", "nginx/1.22.1"))
    live = websocket_observation(no_connection, SWITCHED)
    assert "keep-alive" in run("connection-upgrade", live).diagnosis
    assert "Server: nginx/1.22.1" in run("connection-upgrade", live).diagnosis
    bundled = dataclasses.replace(live, bundled=True)
    assert "proxy in between" not in run("connection-upgrade", bundled).diagnosis
    no_upgrade = websocket_observation(response(426), SWITCHED)
    assert "Caddy" in run("upgrade-present", no_upgrade).diagnosis


def test_a_426_version_refusal_without_upgrade_is_a_should_finding() -> None:
    # Tornado 6.6: 426, Sec-WebSocket-Version: 13, and no Upgrade field.
    tornado = response(426, ("Sec-WebSocket-Version", "13"))
    finding = run("websocket-version", websocket_observation(PLAIN_426, SWITCHED, tornado))
    assert finding.outcome is Outcome.WARNED
    assert "no Upgrade: websocket" in finding.message
    complete = response(426, ("Sec-WebSocket-Version", "13"), ("Upgrade", "websocket"))
    finding = run("websocket-version", websocket_observation(PLAIN_426, SWITCHED, complete))
    assert finding.outcome is Outcome.PASSED
