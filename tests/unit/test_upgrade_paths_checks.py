"""Unit tests for websocket-over-h2 (RFC 8441) and the in-band TLS upgrade checks (RFC 2817).

Every observation is built by hand; no socket is opened.
"""

from __future__ import annotations

import pytest

from pytest_upgrade._model import (
    Exchange,
    FailureKind,
    Observation,
    Offer,
    Outcome,
    ProbeFailure,
    Requirement,
    Response,
    Severity,
    Transport,
)
from pytest_upgrade.checks.catalogue import REGISTRY
from support.observations import TLS_H2, exchange, observation, response, run, said
from support.outcomes import FAILED, PASSED, SKIPPED, WARNED

HTTP = "http://127.0.0.1:8080"
WSS = "wss://127.0.0.1:8443/ws"


# -- websocket-over-h2 ---------------------------------------------------------------------


def websocket_observation(
    h2: Response | None = None,
    failure: ProbeFailure | None = None,
    *,
    handshake: int = 101,
    made: bool = True,
) -> Observation:
    exchanges = [exchange("upgraded", response(handshake), url=WSS, offered="WebSocket handshake")]
    if made:
        exchanges.append(
            exchange(
                "websocket-h2",
                h2 or failure,
                failed_after=failure if h2 else None,
                url=WSS,
                method="CONNECT",
                offered="WebSocket over HTTP/2",
                transport=TLS_H2,
                offer=Offer(("2",), True, ("h2",), websocket=True),
            )
        )
    return observation(
        Requirement("websocket", "/ws"), *exchanges, target="target", observed_at=None
    )


def test_websocket_over_h2_is_a_should_check() -> None:
    check = REGISTRY["websocket-over-h2"]
    assert check.severity is Severity.SHOULD
    assert check.protocols == frozenset({"websocket"})
    assert "RFC 8441" in check.rfc


def h2_answer(status: int) -> Response:
    return response(status, http_version="2")


NOT_ENABLED = ProbeFailure(FailureKind.NOT_APPLICABLE, "SETTINGS do not enable it")
NO_H2 = ProbeFailure(FailureKind.ALPN_MISMATCH, "selected http/1.1")
NO_SETTINGS = ProbeFailure(FailureKind.UNSUPPORTED, "no HTTP/2 SETTINGS arrived")
RESET = ProbeFailure(FailureKind.CLOSED, "the server reset the stream (RST_STREAM 7)")
NO_PONG = ProbeFailure(FailureKind.TIMEOUT, "no answer within 5 s")

# id: the answer to the WebSocket CONNECT over HTTP/2, how the probe failed (after it, if
# there is one), websocket-over-h2's outcome and what the finding says.
OVER_H2 = {
    "200-and-pong": (h2_answer(200), None, PASSED, "Pong received"),
    "any-2xx": (h2_answer(204), None, PASSED, "opened with 204"),
    "setting-absent": (None, NOT_ENABLED, SKIPPED, "SETTINGS do not enable it"),
    "no-h2": (None, NO_H2, SKIPPED, "selected http/1.1"),
    "h2-broken-before-settings": (None, NO_SETTINGS, SKIPPED, "no HTTP/2 SETTINGS arrived"),
    "advertised-but-404": (h2_answer(404), None, WARNED, "answered the WebSocket CONNECT with 404"),
    "advertised-but-reset": (None, RESET, WARNED, "RST_STREAM 7"),
    "no-pong": (h2_answer(200), NO_PONG, WARNED, "the round trip failed: no answer within 5 s"),
}


@pytest.mark.parametrize(("h2", "failure", "outcome", "words"), OVER_H2.values(), ids=OVER_H2)
def test_websocket_over_h2(
    h2: Response | None, failure: ProbeFailure | None, outcome: Outcome, words: str
) -> None:
    finding = run("websocket-over-h2", websocket_observation(h2, failure))
    assert finding.outcome is outcome, finding
    assert words in said(finding)


def test_websocket_over_h2_without_the_probe_is_skipped() -> None:
    finding = run("websocket-over-h2", websocket_observation(made=False))
    assert finding.outcome is SKIPPED
    assert "no https URL" in finding.message


@pytest.mark.parametrize(
    ("handshake", "words"),
    [(101, "which this route accepts"), (403, "the HTTP/1.1 handshake fails too")],
)
def test_a_refusal_over_h2_says_what_http11_did(handshake: int, words: str) -> None:
    observation = websocket_observation(response(403, http_version="2"), handshake=handshake)
    assert words in run("websocket-over-h2", observation).diagnosis


# -- tls-upgrade-performed, tls-upgrade-switch ------------------------------------------

REFUSAL_426 = response(426, ("upgrade", "TLS/1.2, HTTP/1.1"), ("connection", "Upgrade"))
SWITCH_101 = response(101, ("upgrade", "TLS/1.2, HTTP/1.1"), ("connection", "Upgrade"))
UPGRADED_OK = exchange(
    "tls-upgraded",
    response(200, reason=""),  # a status line without a reason phrase
    url=HTTP + "/secure",
    offered="HTTP/1.1 over TLS started in-band",
    transport=Transport("http", "TLSv1.3"),
)


def tls_observation(
    legacy: Response = REFUSAL_426,
    upgrade: Response | ProbeFailure | None = SWITCH_101,
    upgraded: Exchange | None = UPGRADED_OK,
    *,
    protocol: str = "TLS/1.2",
    bundled: bool = False,
) -> Observation:
    exchanges = [exchange("legacy", legacy, url=HTTP + "/secure", offered="HTTP/1.1")]
    if upgrade is not None:
        exchanges.append(
            exchange(
                "tls-upgrade",
                upgrade,
                url=HTTP,
                method="OPTIONS",
                offered="OPTIONS * with Upgrade: TLS/1.2",
                offer=Offer(("1.1",), False, tls_upgrade="TLS/1.2"),
            )
        )
        if upgraded is not None and isinstance(upgrade, Response) and upgrade.status == 101:
            exchanges.append(upgraded)
    return observation(
        Requirement(protocol, "/secure"),
        *exchanges,
        target="target",
        observed_at=None,
        bundled=bundled,
    )


def test_severities_and_sections() -> None:
    performed, switch = REGISTRY["tls-upgrade-performed"], REGISTRY["tls-upgrade-switch"]
    assert performed.severity is Severity.SHOULD
    assert switch.severity is Severity.MUST
    assert "RFC 2817 §4.2" in performed.rfc
    assert switch.rfc == "RFC 2817 §3.3"
    assert performed.protocols == switch.protocols == frozenset({"TLS/1.2", "TLS/1.3"})


def test_the_in_band_upgrade_done_right_passes_both() -> None:
    observation = tls_observation()
    assert run("tls-upgrade-performed", observation).outcome is PASSED
    finding = run("tls-upgrade-switch", observation)
    assert finding.outcome is PASSED
    assert finding.actual == "TLSv1.3, then HTTP/1.1 200"


@pytest.mark.parametrize(
    ("legacy", "words"),
    [
        pytest.param(
            response(308, ("location", "https://127.0.0.1/secure")), "HTTP/1.1 308", id="redirect"
        ),
        pytest.param(response(426, ("upgrade", "HTTP/2.0")), "Upgrade: HTTP/2.0", id="426-no-tls"),
        pytest.param(response(200), "HTTP/1.1 200", id="served"),
    ],
)
def test_no_426_naming_tls_advertises_nothing(legacy: Response, words: str) -> None:
    finding = run("tls-upgrade-performed", tls_observation(legacy, upgrade=response(400)))
    assert finding.outcome is SKIPPED
    assert words in finding.message
    assert "is not a 426 naming TLS/1.x" in finding.message


@pytest.mark.parametrize(
    ("upgrade", "words"),
    [
        pytest.param(response(400), "HTTP/1.1 400", id="400"),
        pytest.param(REFUSAL_426, "HTTP/1.1 426", id="426-again"),
        pytest.param(response(200), "HTTP/1.1 200", id="ignored"),
        pytest.param(
            ProbeFailure(FailureKind.CLOSED, "the server closed the connection without answering"),
            "closed the connection without answering",
            id="closed",
        ),
    ],
)
def test_advertised_but_not_performed_warns(upgrade: Response | ProbeFailure, words: str) -> None:
    observation = tls_observation(upgrade=upgrade)
    finding = run("tls-upgrade-performed", observation)
    assert finding.outcome is WARNED
    assert words in finding.message
    assert "308 redirect" in finding.diagnosis
    assert run("tls-upgrade-switch", observation).outcome is SKIPPED


def test_the_bundled_server_is_not_blamed() -> None:
    finding = run("tls-upgrade-performed", tls_observation(upgrade=None, bundled=True))
    assert finding.outcome is SKIPPED
    assert "hypercorn" in finding.message
    assert "--upgrade-target" in finding.message


def test_without_an_http_url_nothing_is_tried() -> None:
    finding = run("tls-upgrade-performed", tls_observation(upgrade=None))
    assert finding.outcome is SKIPPED
    assert "no http URL" in finding.message


def _after_101(failure: ProbeFailure | None = None, status: int = 200) -> Exchange:
    return exchange(
        "tls-upgraded",
        failure or response(status),
        url=HTTP + "/secure",
        offered="HTTP/1.1 over TLS started in-band",
        transport=None if failure else Transport("http", "TLSv1.2"),
    )


NOT_TLS_101 = response(101, ("upgrade", "HTTP/1.1"), ("connection", "Upgrade"))
TLS_REFUSED_AFTER_101 = _after_101(
    ProbeFailure(FailureKind.TLS_REFUSED, "the server closed the connection")
)
UNTRUSTED_AFTER_101 = _after_101(
    ProbeFailure(FailureKind.PROTOCOL, "certificate verify failed: self-signed")
)
SILENT_AFTER_101 = _after_101(ProbeFailure(FailureKind.TIMEOUT, "no answer within 5 s"))

# id: the answer to the upgrade request, the exchange after it, what tls-upgrade-switch says.
BROKEN_SWITCHES = {
    "101-without-tls": (NOT_TLS_101, _after_101(), "the 101 does not name TLS"),
    "no-tls-after-101": (SWITCH_101, TLS_REFUSED_AFTER_101, "must complete the TLS handshake"),
    "untrusted-certificate": (SWITCH_101, UNTRUSTED_AFTER_101, "does not verify for this host"),
    "no-answer-over-tls": (SWITCH_101, SILENT_AFTER_101, "continue with the response"),
    "426-over-tls": (SWITCH_101, _after_101(status=426), "answered with 426"),
    "5xx-over-tls": (SWITCH_101, _after_101(status=502), "answered with 502"),
}


@pytest.mark.parametrize(
    ("upgrade", "upgraded", "words"), BROKEN_SWITCHES.values(), ids=BROKEN_SWITCHES
)
def test_a_broken_switch_fails(upgrade: Response, upgraded: Exchange, words: str) -> None:
    observation = tls_observation(upgrade=upgrade, upgraded=upgraded)
    assert run("tls-upgrade-performed", observation).outcome is PASSED
    finding = run("tls-upgrade-switch", observation)
    assert finding.outcome is FAILED
    assert words in said(finding)
