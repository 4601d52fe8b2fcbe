"""The upgraded exchange: it succeeds, over the required protocol."""

from __future__ import annotations

from .._evidence import failure_diagnosis, intermediary
from .._model import (
    Exchange,
    FailureKind,
    Observation,
    Response,
    Severity,
)
from .._verdict import Status, Verdict
from ..protocols import TOKENS, protocol_for
from .preconditions import certificate_wanted, upgraded_exchanges
from .registry import check as _check
from .rejected import both_rejected, rejection_diagnosis

# -- checks on the upgraded exchange -------------------------------------------


def _failure_diagnosis(observation: Observation, exchange: Exchange) -> str:
    failure = exchange.failure
    assert failure is not None
    protocol = protocol_for(observation.requirement.protocol)
    if protocol.diagnose is not None and (found := protocol.diagnose(observation, exchange)):
        return found
    hint = protocol.failure_hints.get(failure.kind)
    if hint is not None:
        return hint
    return "Clients that upgrade as told still cannot use the endpoint."


def _succeeded(observation: Observation, exchange: Exchange) -> Verdict:
    protocol = protocol_for(observation.requirement.protocol)
    expected = protocol.upgraded_success
    if exchange.response is None:
        failure = exchange.failure
        if failure is None:  # pragma: no cover
            return Verdict.skip("the upgraded probe recorded nothing")
        # A client certificate missing or refused: the requirement errors, no verdict here.
        if failure.kind in (
            FailureKind.UNSUPPORTED,
            FailureKind.NOT_APPLICABLE,
            FailureKind.CLIENT_CERTIFICATE,
        ):
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
    if protocol.judge_upgraded_answer is not None and (
        own := protocol.judge_upgraded_answer(response, expected)
    ):
        return own
    if response.status >= 500:
        return Verdict.violated(
            f"the upgraded request was answered with {response.status}",
            expected=expected,
            actual=actual,
            diagnosis=failure_diagnosis(observation, response, "the upgraded request"),
        )
    if 400 <= response.status < 500:
        return _rejected(observation, exchange, expected)
    return Verdict.ok("the upgraded request succeeded", expected=expected, actual=actual)


def _rejected(observation: Observation, exchange: Exchange, expected: str) -> Verdict:
    """A 4xx: within the rule (not 426, not 5xx), but not a success to report as one."""
    assert exchange.response is not None
    status, actual = exchange.response.status, exchange.response.status_line
    rejected = both_rejected(observation)
    if rejected is None:
        return Verdict.ok(
            f"the upgraded request was answered with {status}: neither 426 nor 5xx",
            expected=expected,
            actual=actual,
        )
    return Verdict.violated(
        f"the request itself was rejected ({status}), on the legacy and the upgraded protocol",
        expected=expected,
        actual=actual,
        diagnosis=rejection_diagnosis(observation, *rejected),
        severity=Severity.SHOULD,
    )


def _also_refused(observation: Observation, response: Response) -> str:
    """Why the upgraded request, too, got a 426: what decides, and who is in between."""
    shown = intermediary(response)
    names = f" The answer names {shown}." if shown else ""
    explained = protocol_for(observation.requirement.protocol).also_refused
    if explained is not None:
        return explained + names
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
    TOKENS,
)
def check_upgraded_succeeds(observation: Observation) -> Verdict:
    exchanges = upgraded_exchanges(observation)
    if not exchanges:
        return Verdict.skip("no upgraded probe was made")
    wanted = certificate_wanted(observation)
    if wanted is not None:
        return Verdict.skip(wanted)  # the requirement errors: no verdict on these answers
    return combine([(e, _succeeded(observation, e)) for e in exchanges])


@_check(
    "upgraded-protocol",
    Severity.MUST,
    "RFC 9113 §3.2-3.3, RFC 6455 §4.1, RFC 8446, RFC 9112 §2.3, RFC 9114 §3.1",
    "The upgraded exchange really used the required protocol.",
    TOKENS,
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
    unseen: list[str] = []
    for exchange in observation.exchanges:
        response = exchange.response
        if response is None or response.http_version != "2":
            continue
        fields = response.headers
        if observation.bundled:
            # hypercorn drops these fields from the app's HTTP/2 answers before
            # they reach the wire: judge what the app sent (server.answers).
            if exchange.app_headers is None:
                unseen.append(exchange.role)
                continue
            fields = tuple(dict.fromkeys((*exchange.app_headers, *response.headers)))
        checked += 1
        seen += [
            f"{name}: {value} ({exchange.role})"
            for name, value in fields
            if name in _CONNECTION_SPECIFIC
        ]
    if not checked and unseen:
        return Verdict.skip(
            "the bundled server (hypercorn) removes connection-specific fields from HTTP/2"
            " responses before they reach the wire, and the app's own answer to the"
            f" {', '.join(unseen)} probe was not recorded"
        )
    if not checked:
        return Verdict.skip("no HTTP/2 response was received")
    if seen:
        return Verdict.violated(
            "an HTTP/2 response carries connection-specific fields"
            + (" (as the app sent it)" if observation.bundled else ""),
            expected="none of " + ", ".join(_CONNECTION_SPECIFIC),
            actual="; ".join(seen),
            diagnosis=_CONNECTION_FIELDS_BUNDLED if observation.bundled else _CONNECTION_FIELDS,
        )
    if observation.bundled:
        return Verdict.ok("the app's HTTP/2 responses carry no connection-specific fields")
    return Verdict.ok("no HTTP/2 response carries connection-specific fields")


_CONNECTION_FIELDS = (
    "HTTP/2 responses with these fields are malformed (RFC 9113 §8.2.2) and clients"
    " must treat them as errors; remove them when the response goes out over HTTP/2."
)
_CONNECTION_FIELDS_BUNDLED = (
    "The app sets these fields on a response that goes out over HTTP/2. The bundled"
    " hypercorn drops them before they reach the wire, but servers and proxies that pass"
    " them on send a malformed response (RFC 9113 §8.2.2) that clients must treat as an"
    " error; set them only when the ASGI scope's http_version (WSGI: SERVER_PROTOCOL) is"
    " 1.x."
)
