"""WebSocket handshakes (RFC 6455): the accept key and version negotiation."""

from __future__ import annotations

from .._evidence import answer_shows, excerpt
from .._model import (
    AnsweredBy,
    Exchange,
    FailureKind,
    Observation,
    Response,
    Severity,
)
from .._verdict import Verdict
from ..grammar import expected_accept, parse_connection, parse_upgrade, split_list
from ..protocols.roles import LEGACY, UPGRADED
from ..protocols.websocket import VERSION_PROBE, WEBSOCKET_H2
from .preconditions import upgraded_exchanges
from .registry import check as _check
from .upgraded import combine


@_check(
    "websocket-accept",
    Severity.MUST,
    "RFC 6455 §4.2.2",
    "The 101 carries Upgrade: websocket, Connection: upgrade and the right Sec-WebSocket-Accept.",
    ("websocket",),
)
def check_websocket_accept(observation: Observation) -> Verdict:
    switched = [
        e
        for e in upgraded_exchanges(observation)
        if e.response is not None and e.response.status == 101
    ]
    if not switched:
        return Verdict.skip("no handshake was answered with 101")
    verdicts = [(e, _accept_verdict(e)) for e in switched]
    return combine(verdicts)


def _accept_verdict(exchange: Exchange) -> Verdict:
    response = exchange.response
    assert response is not None
    keys = [v for k, v in exchange.request_headers if k.lower() == "sec-websocket-key"]
    expected_value = expected_accept(keys[0]) if keys else "?"
    expected = f"Upgrade: websocket, Connection: upgrade, Sec-WebSocket-Accept: {expected_value}"
    actual = (
        f"Upgrade: {response.combined('upgrade')}, Connection: {response.combined('connection')},"
        f" Sec-WebSocket-Accept: {response.combined('sec-websocket-accept')}"
    )
    problems: list[str] = []
    if not any(
        p.name.lower() == "websocket"
        for p in parse_upgrade(response.combined("upgrade") or "").protocols
    ):
        problems.append("Upgrade is not websocket")
    if "upgrade" not in parse_connection(response.combined("connection") or "").options:
        problems.append("Connection lacks upgrade")
    if response.values("sec-websocket-accept") != [expected_value]:
        problems.append("Sec-WebSocket-Accept is not base64(SHA-1(key + GUID))")
    if problems:
        return Verdict.violated(
            "the 101 is not a valid WebSocket handshake answer: " + "; ".join(problems),
            expected=expected,
            actual=actual,
            diagnosis="RFC 6455 clients must fail the connection (§4.1); answer as §4.2.2 says.",
        )
    return Verdict.ok("the 101 is a valid handshake answer", expected=expected, actual=actual)


_HYPERCORN_VERSION_NOTE = (
    "answered by the bundled server (hypercorn) before the app saw the request: hypercorn"
    " refuses unsupported WebSocket versions itself, with a 400 that carries no"
    " Sec-WebSocket-Version, and an app cannot change that. This is the test server's"
    " behaviour, not the app's; check the deployed server with --upgrade-target"
)


def _sent_version(exchange: Exchange) -> str:
    sent = [v for k, v in exchange.request_headers if k.lower() == "sec-websocket-version"]
    return sent[0] if sent else "?"


def _version_probe_unseen(observation: Observation, response: Response) -> str | None:
    """Why the version probe's answer cannot be judged: its upgrade never arrived (or None).

    When the proper handshake to the same URL switched protocols, the path
    forwards upgrades, and the version probe's answer is the server's own.
    """
    handshake = observation.exchange(UPGRADED)
    switched = handshake.response if handshake is not None else None
    if switched is not None and switched.status == 101:
        return None
    if response.status == 505:
        return "it was answered 505, so it reached the server as another HTTP version"
    legacy = observation.exchange(LEGACY)
    plain = legacy.response if legacy is not None else None
    if plain is not None and (plain.status, plain.body) == (response.status, response.body):
        return (
            f"it was answered exactly like the plain GET ({plain.status_line},"
            f" body {excerpt(plain.body, 80)!r})"
        )
    return None


def _refused_alike(observation: Observation, response: Response) -> str | None:
    """The refusal the proper version-13 handshake got too, or None.

    When the handshake that asks for version 13 is refused the same way (an
    Origin check's 403, a 404, a framework's own 400), the version probe's
    refusal comes from that, not from version handling (RFC 6455 §4.2.2).
    """
    handshake = observation.exchange(UPGRADED)
    refused = handshake.response if handshake is not None else None
    if refused is None or refused.status == 101:
        return None
    if (refused.status, refused.body) != (response.status, response.body):
        return None
    return (
        f"the proper version-13 handshake was refused the same way ({refused.status_line},"
        f" body {excerpt(refused.body, 80)!r}), so this refusal shows nothing about version"
        " handling (see upgraded-succeeds)"
    )


def _refused_with_versions(response: Response, sent: str, expected: str, actual: str) -> Verdict:
    """A refusal listing the supported versions: 400 is allowed, 426 must carry Upgrade."""
    if response.status == 400:
        return Verdict.ok(
            f"version {sent} refused with 400 and the supported versions (allowed: RFC 6455"
            " §4.4 shows it; 426 says more)",
            expected=expected,
            actual=actual,
        )
    if not any(
        p.name.lower() == "websocket"
        for p in parse_upgrade(response.combined("upgrade") or "").protocols
    ):
        # RFC 9110 §15.5.22: a 426 MUST carry Upgrade. The versions still
        # reach the client, so this is a should-level note (Tornado 6.6).
        return Verdict.violated(
            f"version {sent} refused with 426 and the supported versions, but the 426 has"
            " no Upgrade: websocket",
            expected=expected + ", and Upgrade on a 426",
            actual=f"{actual}, {'Upgrade: ' + (response.combined('upgrade') or '(none)')}",
            diagnosis=(
                "A server MUST send an Upgrade field in a 426 (RFC 9110 §15.5.22): add"
                " Upgrade: websocket and Connection: upgrade, or refuse with 400 as RFC 6455"
                " §4.4's example does."
            ),
            severity=Severity.SHOULD,
        )
    return Verdict.ok(
        f"version {sent} refused with 426 and the supported versions",
        expected=expected,
        actual=actual,
    )


@_check(
    "websocket-version",
    Severity.MUST,
    "RFC 6455 §4.2.2, §4.4",
    "A handshake with a Sec-WebSocket-Version unassigned by IANA (so supported by no server) is"
    " refused with the supported versions listed (426; 400 allowed).",
    ("websocket",),
)
def check_websocket_version(observation: Observation) -> Verdict:
    exchange = observation.exchange(VERSION_PROBE)
    if exchange is None:
        return Verdict.skip("no version probe was made")
    response = exchange.response
    if response is None:
        reason = exchange.failure.message if exchange.failure else "nothing"
        return Verdict.skip(f"the version probe got no response: {reason}")
    sent = _sent_version(exchange)
    expected = "426 (or 400) with Sec-WebSocket-Version listing the supported versions"
    versions = [v for value in response.values("sec-websocket-version") for v in split_list(value)]
    actual = f"{response.status_line}, Sec-WebSocket-Version: {', '.join(versions) or '(none)'}"
    if exchange.answered_by is AnsweredBy.SERVER:
        # The rule binds the server software; in a bundled run that is the test
        # harness's hypercorn, not the deployment's: it does not apply to the app
        # under test (so it is not a must-check left unchecked; a live run judges it).
        return Verdict.not_applicable(f"{_HYPERCORN_VERSION_NOTE} (got {actual})")
    if response.status == 101:
        return Verdict.violated(
            f"the server switched protocols for Sec-WebSocket-Version: {sent}",
            expected=expected,
            actual=actual,
            diagnosis=(
                f"Version {sent} is unassigned in the IANA WebSocket Version Number registry, so"
                " no server can speak it: the server accepts any version without checking."
                " Accept only the versions it implements (13, and drafts 7/8 if it must) and"
                " refuse others with 426 and Sec-WebSocket-Version (RFC 6455 §4.2.2, §4.4)."
            ),
        )
    if response.status in (400, 426) and versions:
        return _refused_with_versions(response, sent, expected, actual)
    if (unseen := _version_probe_unseen(observation, response)) is not None:
        return Verdict.skip(
            f"the version probe's handshake did not reach the server as sent: {unseen}"
            " (see upgrade-stripped)"
        )
    if (alike := _refused_alike(observation, response)) is not None:
        return Verdict.skip(alike)
    return Verdict.violated(
        f"the unsupported version {sent} was not refused with the supported versions",
        expected=expected,
        actual=actual,
        diagnosis=(
            "Answer a handshake with an unsupported version with 426 and"
            " Sec-WebSocket-Version: 13 (every version the server speaks), so clients can retry"
            " with one of them (RFC 6455 §4.2.2, §4.4)."
        ),
    )


# The failure kinds that mean the server does not offer WebSocket over HTTP/2 (no
# h2 by ALPN, SETTINGS without extended CONNECT), or that the probe could not
# tell (no SETTINGS arrived, a request header HTTP/2 cannot carry): skipped.
_NOT_OFFERED = frozenset(
    {FailureKind.ALPN_MISMATCH, FailureKind.NOT_APPLICABLE, FailureKind.UNSUPPORTED}
)
_H2_EXPECTED = (
    "a 2xx to CONNECT with :protocol websocket, then a Pong to a Ping (or the route's clean Close)"
)


# Should, not must: RFC 8441 §3 lets a server offer the extended CONNECT (a
# MAY) and says nothing that obliges it to accept any one route. But browsers
# that see the setting open their WebSockets over HTTP/2 instead of making the
# HTTP/1.1 handshake, so a route refused there can fail for them.
@_check(
    "websocket-over-h2",
    Severity.SHOULD,
    "RFC 8441 §3-5; RFC 6455 §5.5.2",
    "When the HTTP/2 SETTINGS enable the extended CONNECT protocol, a CONNECT with"
    " :protocol websocket to the route gets a 2xx and a Ping over it gets its Pong; skipped"
    " when the setting is absent.",
    ("websocket",),
)
def check_websocket_over_h2(observation: Observation) -> Verdict:
    exchange = observation.exchange(WEBSOCKET_H2)
    if exchange is None:
        return Verdict.skip("no WebSocket-over-HTTP/2 probe was made (the target has no https URL)")
    response, failure = exchange.response, exchange.failure
    if response is None:
        if failure is None:  # pragma: no cover - a probe records one or the other
            return Verdict.skip("the WebSocket-over-HTTP/2 probe recorded nothing")
        if failure.kind in _NOT_OFFERED:
            return Verdict.skip(failure.message)
        return Verdict.violated(
            f"the server enables extended CONNECT but the CONNECT got no answer: {failure.message}",
            expected=_H2_EXPECTED,
            actual=failure.message,
            diagnosis=_h2_refused(observation),
        )
    actual = response.status_line
    if not 200 <= response.status < 300:
        return Verdict.violated(
            f"the server enables extended CONNECT but answered the WebSocket CONNECT with"
            f" {response.status}",
            expected=_H2_EXPECTED,
            actual=answer_shows(response),
            diagnosis=_h2_refused(observation),
        )
    if failure is not None:
        return Verdict.violated(
            f"the WebSocket stream was opened ({response.status}) but the round trip failed:"
            f" {failure.message}",
            expected=_H2_EXPECTED,
            actual=f"{actual}; {failure.message}",
            diagnosis=_round_trip_failed(failure.message),
        )
    if exchange.round_trip and exchange.round_trip != "Pong received":
        return Verdict.ok(
            f"the WebSocket stream opened with {response.status} and {exchange.round_trip}:"
            " its Close frame came through the stream (RFC 6455 §5.5.1: no Pong is owed after it)",
            expected=_H2_EXPECTED,
            actual=f"{actual}, {exchange.round_trip}",
        )
    return Verdict.ok(
        f"the WebSocket stream opened with {response.status} and a Ping got its Pong",
        expected=_H2_EXPECTED,
        actual=f"{actual}, Pong received",
    )


def _round_trip_failed(message: str) -> str:
    if "the client refused the answer" in message:
        return (
            "The 2xx selects a subprotocol or an extension the CONNECT did not offer; over"
            " HTTP/2 the client fails the connection as it does after such a 101 (RFC 8441 §5,"
            " RFC 6455 §4.1): see websocket-subprotocol."
        )
    if "the server closed the WebSocket" in message:
        # A Close frame with a code other than 1000 did travel the stream: the
        # route itself ended the connection (RFC 6455 §7.4.1 names the codes).
        return (
            "The route closed the WebSocket before answering the Ping, with the close code"
            " shown (RFC 6455 §7.4.1): its Close frame came through the stream, so the tunnel"
            " works; the app refused the connection it had accepted (a policy, a missing"
            " subprotocol or credentials). Over HTTP/1.1 the same route may do the same."
        )
    return (
        "An endpoint must answer a Ping with a Pong (RFC 6455 §5.5.2); over HTTP/2 the"
        " frames travel in the stream's DATA frames (RFC 8441 §5). Something between"
        " the client and the WebSocket server does not pass them on."
    )


def _h2_refused(observation: Observation) -> str:
    handshake = observation.exchange(UPGRADED)
    switched = handshake.response if handshake is not None else None
    also = (
        "which this route accepts"
        if switched is not None and switched.status == 101
        else "and the HTTP/1.1 handshake fails too (see upgraded-succeeds)"
    )
    said = (
        "The server's SETTINGS say it accepts WebSocket over HTTP/2"
        " (SETTINGS_ENABLE_CONNECT_PROTOCOL = 1, RFC 8441 §3), so browsers open this route over"
        f" HTTP/2 instead of making the HTTP/1.1 handshake, {also}."
    )
    if observation.bundled:
        # hypercorn always advertises the setting and hands the CONNECT to the app.
        return (
            f"{said} The bundled server (hypercorn) always advertises it and passes the"
            " extended CONNECT to the app as a WebSocket connection whose scope's http_version"
            ' is "2": the app refused it. RFC 8441 §5 forbids Upgrade and Connection over'
            " HTTP/2, so an app that insists on Upgrade: websocket refuses it (python-socketio's"
            " Engine.IO does). Accept WebSocket connections over HTTP/2 as over HTTP/1.1 (do"
            " not require the HTTP/1.1 Upgrade or Connection fields), or judge the deployed"
            " server, whose HTTP/2 may not offer it, with --upgrade-target."
        )
    return (
        f"{said} Route the extended CONNECT to the WebSocket endpoint (Apache httpd:"
        " H2WebSockets on, with the WebSocket ProxyPass), or stop advertising the setting."
    )
