"""The upgraded exchange: it succeeds, over the required protocol."""

from __future__ import annotations

from .._model import (
    Exchange,
    FailureKind,
    Observation,
    Response,
    Severity,
)
from ..protocols import protocol_for
from .evidence import answer_shows, failure_diagnosis, intermediary
from .preconditions import ALL
from .registry import UPGRADED, Status, Verdict
from .registry import check as _check

# -- checks on the upgraded exchange -------------------------------------------


def upgraded_exchanges(observation: Observation) -> list[Exchange]:
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


def combine(verdicts: list[tuple[Exchange, Verdict]]) -> Verdict:
    """One verdict for several exchanges: the first violation, else ok, else skipped."""
    if len(verdicts) == 1:
        return verdicts[0][1]
    for exchange, verdict in verdicts:
        if verdict.status is Status.VIOLATED:
            return Verdict.violated(
                f"{exchange.url}: {verdict.message}",
                expected=verdict.expected,
                actual=verdict.actual,
                diagnosis=verdict.diagnosis,
                severity=verdict.severity,
            )
    done = [(e, v) for e, v in verdicts if v.status is Status.OK]
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
    exchanges = upgraded_exchanges(observation)
    if not exchanges:
        return Verdict.skip("no upgraded probe was made")
    return combine([(e, _succeeded(observation, e)) for e in exchanges])


@_check(
    "upgraded-protocol",
    Severity.MUST,
    "RFC 9113 §3.2-3.3, RFC 6455 §4.1, RFC 8446, RFC 9112 §2.3",
    "The upgraded exchange really used the required protocol.",
    ALL,
)
def check_upgraded_protocol(observation: Observation) -> Verdict:
    exchanges = upgraded_exchanges(observation)
    if not exchanges:
        return Verdict.skip("no upgraded probe was made")
    judge = protocol_for(observation.requirement.protocol).judge_upgraded
    verdicts: list[tuple[Exchange, Verdict]] = []
    for exchange in exchanges:
        if exchange.failure is not None and exchange.failure.kind is FailureKind.NOT_APPLICABLE:
            verdicts.append((exchange, Verdict.skip(exchange.failure.message)))
        else:
            verdicts.append((exchange, judge(observation, exchange)))
    return combine(verdicts)


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
