"""HTTP/3 (``h3``): the advertisement (``Alt-Svc``, RFC 7838) and the answer over QUIC.

There is no 426 for HTTP/3: the HTTP/1.1 and HTTP/2 answers advertise it
(RFC 9114 §3.1.1), and the same request over HTTP/3 must be served like the
others, since an alternative service serves the same origin (RFC 7838 §1,
§2.1). ``upgraded-succeeds`` and ``upgraded-protocol`` judge the QUIC
exchange itself; these checks judge the advertisement and the comparison.
"""

from __future__ import annotations

from .._model import Exchange, Observation, Response, Severity
from .._verdict import Verdict
from ..grammar import Alternative, AltSvcField, parse_alt_svc
from ..protocols.h3 import ADVERTISING_ROLES, H3, LEGACY_H2, advertised_h3, origin_host
from ..protocols.roles import LEGACY, UPGRADED
from .registry import check as _check

__all__: list[str] = []

_H3 = (H3.token,)
_ADVERTISE = 'Alt-Svc: h3=":443"; ma=86400'
_OVER = {LEGACY: "HTTP/1.1", LEGACY_H2: "HTTP/2"}


def _advertisers(observation: Observation) -> list[Exchange]:
    exchanges = [observation.exchange(role) for role in (LEGACY, LEGACY_H2)]
    return [e for e in exchanges if e is not None]


def _drafts(parsed: AltSvcField) -> list[Alternative]:
    # RFC 9114 §3.1: "h3" is the final version; "h3-NN" were the drafts' ids.
    return [a for a in parsed.alternatives if a.protocol_id.startswith("h3-")]


def _judge_advertisement(exchange: Exchange) -> Verdict:
    """Does this answer (HTTP/1.1 or HTTP/2) advertise h3 on the origin's host?"""
    over = _OVER[exchange.role]
    expected = f'an {over} answer with Alt-Svc naming h3 on the origin\'s host, e.g. "{_ADVERTISE}"'
    response = exchange.response
    if response is None:
        failure = exchange.failure
        if exchange.role == LEGACY_H2 or failure is None or not exchange.url:
            return Verdict.skip(f"no {over} answer to judge: {_why(exchange)}")
        return Verdict.violated(
            f"the request over {over} failed: {failure.message}",
            expected=expected,
            actual=failure.message,
            diagnosis="Clients reach HTTP/3 from an answer over TCP: that answer must arrive.",
        )
    if response.status >= 500:
        return Verdict.violated(
            f"the request over {over} was answered with {response.status}",
            expected=expected,
            actual=response.status_line,
        )
    value = response.combined("alt-svc")
    actual = f"Alt-Svc: {value}" if value is not None else "no Alt-Svc field"
    if value is None:
        return Verdict.violated(
            f"the {over} answer does not advertise HTTP/3",
            expected=expected,
            actual=actual,
            diagnosis=(
                "Clients learn of an HTTP/3 endpoint from Alt-Svc (RFC 9114 §3.1.1): send"
                f" {_ADVERTISE} (the UDP port QUIC listens on) on HTTP/1.1 and HTTP/2 answers."
            ),
        )
    return _judge_alt_svc(exchange.url, response, value, over=over, expected=expected)


def _judge_alt_svc(
    url: str, response: Response, value: str, *, over: str, expected: str
) -> Verdict:
    """Does the Alt-Svc ``value`` of an answer to ``url`` name h3 on the origin's host?"""
    actual = f"Alt-Svc: {value}"
    parsed = parse_alt_svc(value)
    if parsed.clear:
        return Verdict.violated(
            f"the {over} answer withdraws every alternative (Alt-Svc: clear)",
            expected=expected,
            actual=actual,
            diagnosis="Alt-Svc: clear tells clients to forget HTTP/3 (RFC 7838 §3).",
        )
    if parsed.errors:
        return Verdict.violated(
            f"Alt-Svc of the {over} answer is malformed: {'; '.join(parsed.errors)}",
            expected=expected,
            actual=actual,
            diagnosis='Alt-Svc = 1#( protocol-id "=" DQUOTE [host] ":" port DQUOTE *( ";" param ) )'
            " (RFC 7838 §3): clients drop what does not parse.",
        )
    host = origin_host(url)
    found = advertised_h3(response, host)
    if found is not None:
        return Verdict.ok(f"the {over} answer advertises {found}", expected=expected, actual=actual)
    h3_elsewhere = [a for a in parsed.alternatives if a.protocol_id == "h3"]
    if h3_elsewhere:
        return Verdict.violated(
            f"the {over} answer advertises h3 only on another host ({h3_elsewhere[0].authority()})",
            expected=expected,
            actual=actual,
            diagnosis=(
                "RFC 7838 §2.1 allows an alternative on another host, but pytest-upgrade probes"
                f" only the target's host ({host}): test that host as its own target."
            ),
            severity=Severity.SHOULD,
        )
    drafts = _drafts(parsed)
    if drafts:
        return Verdict.violated(
            f"the {over} answer advertises only draft versions of HTTP/3"
            f" ({', '.join(a.protocol_id for a in drafts)})",
            expected=expected,
            actual=actual,
            diagnosis=(
                'HTTP/3 is "h3" (RFC 9114 §3.1, §11.1); "h3-NN" named Internet-Drafts, which'
                " current clients no longer speak. Advertise h3 (drafts may follow it)."
            ),
        )
    return Verdict.violated(
        f"the {over} answer's Alt-Svc does not name h3",
        expected=expected,
        actual=actual,
        diagnosis=f"Add the h3 alternative: {_ADVERTISE}.",
    )


def _why(exchange: Exchange) -> str:
    return exchange.failure.message if exchange.failure is not None else "no response"


def _combine(judged: list[tuple[Exchange, Verdict]], none: str) -> Verdict:
    """The first violation, else ok naming every passed one, else skipped."""
    for _, verdict in judged:
        if verdict.status == "violated":
            return verdict
    passed = [v for _, v in judged if v.status == "ok"]
    if passed:
        return Verdict.ok(
            "; ".join(v.message for v in passed),
            expected=passed[0].expected,
            actual="; ".join(dict.fromkeys(v.actual for v in passed)),
        )
    return Verdict.skip("; ".join(v.message for _, v in judged) or none)


def _unsupported(observation: Observation) -> str | None:
    """The reason nothing was probed (aioquic is missing), or None."""
    upgraded = observation.exchange(UPGRADED)
    if upgraded is not None and upgraded.failure is not None and not _advertisers(observation):
        return upgraded.failure.message
    return None


@_check(
    "alt-svc-h3",
    Severity.MUST,
    "RFC 9114 §3.1.1, RFC 7838 §3",
    "The HTTP/1.1 and HTTP/2 answers carry an Alt-Svc field that parses and advertises h3 (the"
    " final ALPN id, not only a draft's such as h3-29) on the target's host, not clear.",
    _H3,
)
def check_alt_svc_h3(observation: Observation) -> Verdict:
    if (reason := _unsupported(observation)) is not None:
        return Verdict.skip(reason)
    judged = [(e, _judge_advertisement(e)) for e in _advertisers(observation)]
    return _combine(judged, "no answer over HTTP/1.1 or HTTP/2 to judge")


def _h3_alternatives(observation: Observation) -> list[tuple[str, Alternative]]:
    found: list[tuple[str, Alternative]] = []
    for role in ADVERTISING_ROLES:
        exchange = observation.exchange(role)
        if exchange is not None and exchange.response is not None:
            alternative = advertised_h3(exchange.response, origin_host(exchange.url))
            if alternative is not None:
                found.append((_OVER[role], alternative))
    return found


@_check(
    "alt-svc-max-age",
    Severity.SHOULD,
    "RFC 7838 §3.1",
    "The advertised h3 alternative stays fresh: ma is greater than 0 (without ma, clients keep"
    " it for the default 24 hours, noted).",
    _H3,
)
def check_alt_svc_max_age(observation: Observation) -> Verdict:
    if (reason := _unsupported(observation)) is not None:
        return Verdict.skip(reason)
    alternatives = _h3_alternatives(observation)
    if not alternatives:
        return Verdict.skip("no answer advertises h3 on the target's host (see alt-svc-h3)")
    expected = "ma=<seconds> greater than 0"
    for over, alternative in alternatives:
        if alternative.max_age == 0:
            return Verdict.violated(
                f"the h3 alternative of the {over} answer has ma=0",
                expected=expected,
                actual=str(alternative),
                diagnosis=(
                    "An alternative with ma=0 is stale as soon as it arrives (RFC 7838 §3.1):"
                    " clients do not use it, so HTTP/3 is advertised in name only. Send the"
                    " seconds clients may keep it, e.g. ma=86400."
                ),
            )
    for over, alternative in alternatives:
        if alternative.max_age is None:
            return Verdict.violated(
                f"the h3 alternative of the {over} answer has no ma: clients keep it for the"
                " default 24 hours (RFC 7838 §3.1)",
                expected=expected,
                actual=str(alternative),
                diagnosis="State ma explicitly, so the lifetime is a decision, not a default.",
                severity=Severity.INFO,
            )
    over, alternative = alternatives[0]
    return Verdict.ok(
        f"fresh for {alternative.freshness} s ({over} answer)",
        expected=expected,
        actual=str(alternative),
    )


def _status_class(response: Response) -> str:
    return f"{response.status // 100}xx"


@_check(
    "h3-same-status",
    Severity.MUST,
    "RFC 7838 §1, §2.1; RFC 9114 §3.3",
    "The request over HTTP/3 is answered with the same status class as over HTTP/2 and HTTP/1.1:"
    " an alternative service serves the same resources.",
    _H3,
)
def check_h3_same_status(observation: Observation) -> Verdict:
    upgraded = observation.exchange(UPGRADED)
    if upgraded is None or upgraded.response is None:
        reason = _why(upgraded) if upgraded is not None else "no HTTP/3 probe was made"
        return Verdict.skip(f"no HTTP/3 answer to compare: {reason}")
    h3 = upgraded.response
    others = [
        (_OVER[e.role], e.response) for e in _advertisers(observation) if e.response is not None
    ]
    if not others:
        return Verdict.skip("no HTTP/1.1 or HTTP/2 answer to compare with")
    expected = ", ".join(f"{_status_class(r)} as over {over}" for over, r in others)
    actual = f"{h3.status_line}; " + "; ".join(
        f"over {over}: {r.status_line}" for over, r in others
    )
    differing = [(over, r) for over, r in others if _status_class(r) != _status_class(h3)]
    if differing:
        over, response = differing[0]
        return Verdict.violated(
            f"HTTP/3 answers {h3.status}, {over} answers {response.status}",
            expected=expected,
            actual=actual,
            diagnosis=(
                "The same request gets another answer over HTTP/3: the app branches on the HTTP"
                ' version (ASGI scope "http_version" "3"), or the QUIC listener routes to another'
                " backend or lacks a route the TCP listener has. Clients that move to HTTP/3 as"
                " advertised then see a different site."
            ),
        )
    return Verdict.ok(
        f"HTTP/3 answers {h3.status}, like " + " and ".join(over for over, _ in others),
        expected=expected,
        actual=actual,
    )
