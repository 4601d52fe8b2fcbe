"""Checks on the upgraded exchange, and the protocol-specific checks.

The catalogue these implement is docs/checks.md; each rule's RFC section is in
its registration and shown next to every finding.
"""

from __future__ import annotations

from .._model import (
    Exchange,
    FailureKind,
    HandshakeOutcome,
    Observation,
    Response,
    Severity,
    TlsHandshake,
)
from ..grammar import expected_accept, parse_connection, parse_upgrade, split_list
from ..protocols import protocol_for, version_tuple
from .evidence import answer_shows, excerpt, failure_diagnosis, intermediary
from .refusal import (
    ALL,
    TLS_REQUIREMENTS,
    https_redirect,
    required_tls,
)
from .registry import ENFORCED, LEGACY, UPGRADED, Verdict
from .registry import check as _check

# -- checks on the upgraded exchange -------------------------------------------


def _upgraded(observation: Observation) -> list[Exchange]:
    """Every upgraded exchange (WebSocket makes one per URL: wss:// and ws://)."""
    return [e for e in observation.exchanges if e.role.startswith(UPGRADED)]


def _failure_diagnosis(observation: Observation, exchange: Exchange) -> str:
    failure = exchange.failure
    assert failure is not None
    if failure.kind is FailureKind.ALPN_MISMATCH:
        return (
            "The server does not offer h2 in ALPN, so clients told to upgrade cannot: enable"
            " HTTP/2 on the TLS listener (and on any TLS-terminating proxy in front of it)."
        )
    hint = protocol_for(observation.requirement.protocol).failure_hints.get(failure.kind)
    if hint is not None:
        return hint
    return "Clients that upgrade as told still cannot use the endpoint."


def _succeeded(observation: Observation, exchange: Exchange) -> Verdict:
    websocket = observation.requirement.protocol == "websocket"
    expected = "101 Switching Protocols" if websocket else "a status other than 426 and 5xx"
    if exchange.response is None:
        failure = exchange.failure
        if failure is None:  # pragma: no cover
            return Verdict.skip("the upgraded probe recorded nothing")
        if failure.kind in (FailureKind.UNSUPPORTED, FailureKind.NOT_APPLICABLE):
            return Verdict.skip(failure.message)
        return Verdict.violated(
            f"the upgraded request failed: {failure.message}",
            expected=expected,
            actual=failure.message,
            diagnosis=_failure_diagnosis(observation, exchange),
        )
    response = exchange.response
    actual = response.status_line
    if response.status == 426:
        return Verdict.violated(
            "the upgraded request was also answered with 426",
            expected=expected,
            actual=actual,
            diagnosis=_also_refused(observation, response),
        )
    if websocket and response.status == 505:
        return Verdict.violated(
            "the WebSocket handshake was answered with 505",
            expected=expected,
            actual=answer_shows(response),
            diagnosis=(
                "The handshake was sent as HTTP/1.1; a 505 shows it reached the server as another"
                " version, typically HTTP/1.0 from a reverse proxy, which drops the upgrade:"
                " see upgrade-stripped for the proxy settings."
            ),
        )
    if response.status >= 500:
        return Verdict.violated(
            f"the upgraded request was answered with {response.status}",
            expected=expected,
            actual=actual,
            diagnosis=failure_diagnosis(observation, response, "the upgraded request"),
        )
    if websocket and response.status != 101:
        return Verdict.violated(
            f"the WebSocket handshake was answered with {response.status}, not 101",
            expected=expected,
            actual=actual,
            diagnosis="The server does not accept WebSocket connections on this path.",
        )
    return Verdict.ok("the upgraded request succeeded", expected=expected, actual=actual)


def _also_refused(observation: Observation, response: Response) -> str:
    """Why the upgraded request, too, got a 426: what decides, and who is in between."""
    shown = intermediary(response)
    names = f" The answer names {shown}." if shown else ""
    if observation.requirement.protocol == "websocket":
        return (
            "The proper handshake was refused like a plain request: the server did not see its"
            f" Upgrade (see upgrade-stripped).{names}"
        )
    if observation.bundled:
        return (
            "The app refuses the required protocol too: it decides on something other than the"
            " protocol the request arrived with (the ASGI scope's http_version)."
        )
    return (
        "The target refuses the required protocol too. Typically the refusal is decided behind"
        " a proxy that terminates the client's protocol and speaks HTTP/1.1 to the app (nginx,"
        " HAProxy, Caddy and Apache httpd all do by default), so the app never sees HTTP/2:"
        " decide at the proxy on the client's protocol (nginx: $server_protocol; HAProxy:"
        f" ssl_fc_alpn; Caddy: the protocol matcher), or have the proxy pass it on.{names}"
    )


def _combine(verdicts: list[tuple[Exchange, Verdict]]) -> Verdict:
    """One verdict for several exchanges: the first violation, else ok, else skipped."""
    if len(verdicts) == 1:
        return verdicts[0][1]
    for exchange, verdict in verdicts:
        if verdict.status == "violated":
            return Verdict.violated(
                f"{exchange.url}: {verdict.message}",
                expected=verdict.expected,
                actual=verdict.actual,
                diagnosis=verdict.diagnosis,
                severity=verdict.severity,
            )
    done = [(e, v) for e, v in verdicts if v.status == "ok"]
    if done:
        return Verdict.ok(
            "; ".join(f"{e.url}: {v.message}" for e, v in done),
            expected=done[0][1].expected,
            actual="; ".join(v.actual for _, v in done),
        )
    return Verdict.skip("; ".join(dict.fromkeys(v.message for _, v in verdicts)))


@_check(
    "upgraded-succeeds",
    Severity.MUST,
    "RFC 9110 §15.5.22",
    "The same request made with the required protocol is answered with neither 426 nor 5xx"
    " (101 for WebSocket).",
    ALL,
)
def check_upgraded_succeeds(observation: Observation) -> Verdict:
    exchanges = _upgraded(observation)
    if not exchanges:
        return Verdict.skip("no upgraded probe was made")
    return _combine([(e, _succeeded(observation, e)) for e in exchanges])


@_check(
    "upgraded-protocol",
    Severity.MUST,
    "RFC 9113 §3.2-3.3, RFC 6455 §4.1, RFC 8446, RFC 9112 §2.3",
    "The upgraded exchange really used the required protocol.",
    ALL,
)
def check_upgraded_protocol(observation: Observation) -> Verdict:
    exchanges = _upgraded(observation)
    if not exchanges:
        return Verdict.skip("no upgraded probe was made")
    judge = protocol_for(observation.requirement.protocol).judge_upgraded
    verdicts: list[tuple[Exchange, Verdict]] = []
    for exchange in exchanges:
        if exchange.failure is not None and exchange.failure.kind is FailureKind.NOT_APPLICABLE:
            verdicts.append((exchange, Verdict.skip(exchange.failure.message)))
        else:
            verdicts.append((exchange, judge(observation, exchange)))
    return _combine(verdicts)


_CONNECTION_SPECIFIC = (
    "connection",
    "upgrade",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
)


@_check(
    "h2-no-connection-headers",
    Severity.MUST,
    "RFC 9113 §8.2.2",
    "An HTTP/2 response carries no connection-specific header fields.",
    ("h2", "h2c"),
)
def check_h2_no_connection_headers(observation: Observation) -> Verdict:
    seen: list[str] = []
    checked = 0
    for exchange in observation.exchanges:
        response = exchange.response
        if response is None or response.http_version != "2":
            continue
        checked += 1
        seen += [
            f"{name}: {value} ({exchange.role})"
            for name, value in response.headers
            if name in _CONNECTION_SPECIFIC
        ]
    if not checked:
        return Verdict.skip("no HTTP/2 response was received")
    if seen:
        return Verdict.violated(
            "an HTTP/2 response carries connection-specific fields",
            expected="none of " + ", ".join(_CONNECTION_SPECIFIC),
            actual="; ".join(seen),
            diagnosis=(
                "HTTP/2 responses with these fields are malformed (RFC 9113 §8.2.2) and clients"
                " must treat them as errors; remove them when the response goes out over HTTP/2."
            ),
        )
    return Verdict.ok("no HTTP/2 response carries connection-specific fields")


_LEGACY_TLS = ("TLSv1", "TLSv1.1")


@_check(
    "tls-legacy-refused",
    Severity.MUST,
    "RFC 8996 §2-3, RFC 9113 §9.2",
    "TLS 1.0 and TLS 1.1 handshakes are refused.",
    ("h2", *TLS_REQUIREMENTS),
    phase=ENFORCED,
)
def check_tls_legacy_refused(observation: Observation) -> Verdict:
    handshakes = [h for h in observation.handshakes if h.version in _LEGACY_TLS]
    if not handshakes:
        return Verdict.skip("no TLS handshake probe was made (the target has no https URL)")
    lines = [f"{h.version}: {h.outcome.value} ({h.detail})" for h in handshakes]
    actual = "; ".join(lines)
    accepted = [h for h in handshakes if h.outcome is HandshakeOutcome.ACCEPTED]
    if accepted:
        versions = ", ".join(h.version for h in accepted)
        return Verdict.violated(
            f"the server accepts {versions}",
            expected="TLS 1.0 and 1.1 refused",
            actual=actual,
            diagnosis=(
                "TLS 1.0 and 1.1 are deprecated (RFC 8996) and HTTP/2 requires TLS 1.2 or later"
                " (RFC 9113 §9.2): set the server's minimum TLS version to 1.2. (A client whose"
                " TLS is too old sees a handshake error, which is the intended refusal.)"
            ),
        )
    inconclusive = [h for h in handshakes if h.outcome is not HandshakeOutcome.REFUSED]
    if inconclusive:
        return Verdict.skip("inconclusive, never passed: " + actual)
    return Verdict.ok("TLS 1.0 and 1.1 are refused", actual=actual)


def _handshake_lines(handshakes: list[TlsHandshake]) -> str:
    return "; ".join(f"{h.version}: {h.outcome.value} ({h.detail})" for h in handshakes)


@_check(
    "tls-below-required-refused",
    Severity.MUST,
    "RFC 8446 §4.2.1",
    "A TLS 1.2 handshake is refused when TLS 1.3 is required.",
    ("TLS/1.3",),
    phase=ENFORCED,
)
def check_tls_below_required_refused(observation: Observation) -> Verdict:
    handshakes = [h for h in observation.handshakes if h.version == "TLSv1.2"]
    if not handshakes:
        return Verdict.skip("no TLS 1.2 handshake probe was made (the target has no https URL)")
    actual = _handshake_lines(handshakes)
    outcome = handshakes[0].outcome
    if outcome is HandshakeOutcome.ACCEPTED:
        return Verdict.violated(
            "the server accepts TLS 1.2",
            expected="TLS 1.2 refused",
            actual=actual,
            diagnosis="Set the server's minimum TLS version to 1.3.",
        )
    if outcome is not HandshakeOutcome.REFUSED:
        return Verdict.skip("inconclusive, never passed: " + actual)
    return Verdict.ok("TLS 1.2 is refused", actual=actual)


@_check(
    "cleartext-refused",
    Severity.MUST,
    "RFC 2817 §4, RFC 9110 §15.4",
    "A cleartext request gets 426 with Upgrade: TLS/1.x and Connection: upgrade, or a"
    " 301/308 redirect to https.",
    TLS_REQUIREMENTS,
    phase=ENFORCED,
)
def check_cleartext_refused(observation: Observation) -> Verdict:
    exchange = observation.exchange(LEGACY)
    if exchange is None or exchange.response is None:
        failure = exchange.failure if exchange else None
        return Verdict.skip(failure.message if failure else "no cleartext probe was made")
    response = exchange.response
    minimum = required_tls(observation)
    expected = (
        f"426 with Upgrade: TLS/{'.'.join(map(str, minimum))} and Connection: upgrade,"
        " or 301/308 to https"
    )
    location = https_redirect(response)
    if location is not None:
        return Verdict.ok(
            "the cleartext request is redirected to https",
            expected=expected,
            actual=f"{response.status_line}, Location: {location}",
        )
    problems = _cleartext_426_problems(response, minimum)
    actual = f"{response.status_line}, Upgrade: {response.combined('upgrade')}, Connection:"
    actual += f" {response.combined('connection')}"
    if problems:
        return Verdict.violated(
            "the cleartext request is not refused as RFC 2817 describes: " + "; ".join(problems),
            expected=expected,
            actual=actual,
            diagnosis=(
                "Cleartext is still served or refused without directions: answer it with 426 and"
                " Upgrade: TLS/1.x (RFC 2817 §4), or redirect permanently to the https URL."
            ),
        )
    return Verdict.ok("the cleartext request is refused with 426", expected=expected, actual=actual)


def _cleartext_426_problems(response: Response, minimum: tuple[int, ...]) -> list[str]:
    if response.status != 426:
        if response.status in (301, 308):
            return [f"the redirect goes to {response.combined('location')!r}, not an https URL"]
        return [f"answered with {response.status}"]
    problems: list[str] = []
    protocols = parse_upgrade(response.combined("upgrade") or "").protocols
    if not any(
        p.name.lower() == "tls" and (version_tuple(p.version) or (0,)) >= minimum for p in protocols
    ):
        problems.append("Upgrade does not name TLS at the required version")
    if "upgrade" not in parse_connection(response.combined("connection") or "").options:
        problems.append("Connection lacks upgrade")
    return problems


@_check(
    "websocket-accept",
    Severity.MUST,
    "RFC 6455 §4.2.2",
    "The 101 carries Upgrade: websocket, Connection: upgrade and the right Sec-WebSocket-Accept.",
    ("websocket",),
)
def check_websocket_accept(observation: Observation) -> Verdict:
    switched = [
        e for e in _upgraded(observation) if e.response is not None and e.response.status == 101
    ]
    if not switched:
        return Verdict.skip("no handshake was answered with 101")
    verdicts = [(e, _accept_verdict(e)) for e in switched]
    return _combine(verdicts)


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


@_check(
    "websocket-version",
    Severity.MUST,
    "RFC 6455 §4.2.2, §4.4",
    "A handshake with a Sec-WebSocket-Version unassigned by IANA (so supported by no server) is"
    " refused with the supported versions listed (426; 400 allowed).",
    ("websocket",),
)
def check_websocket_version(observation: Observation) -> Verdict:
    exchange = observation.exchange("version-probe")
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
    if exchange.answered_by == "server":
        return Verdict.skip(f"{_HYPERCORN_VERSION_NOTE} (got {actual})")
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
    if (unseen := _version_probe_unseen(observation, response)) is not None:
        return Verdict.skip(
            f"the version probe's handshake did not reach the server as sent: {unseen}"
            " (see upgrade-stripped)"
        )
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


@_check(
    "h2c-upgrade-handshake",
    Severity.INFO,
    "RFC 7540 §3.2, RFC 9113 §3.1",
    "An Upgrade: h2c request with HTTP2-Settings gets 101 (deprecated by RFC 9113; information).",
    ("h2c",),
)
def check_h2c_upgrade_handshake(observation: Observation) -> Verdict:
    exchange = observation.exchange("h2c-upgrade")
    if exchange is None or exchange.response is None:
        reason = exchange.failure.message if exchange and exchange.failure else "no response"
        return Verdict.skip(f"the h2c upgrade probe got no response: {reason}")
    response = exchange.response
    who = " (answered by the bundled hypercorn itself)" if exchange.answered_by == "server" else ""
    if response.status == 101:
        return Verdict.ok(f"Upgrade: h2c is accepted with 101{who}", actual=response.status_line)
    return Verdict.violated(
        f"Upgrade: h2c is not accepted ({response.status}); fine, since RFC 9113 §3.1"
        " deprecates it: clients use prior knowledge",
        actual=response.status_line,
    )
