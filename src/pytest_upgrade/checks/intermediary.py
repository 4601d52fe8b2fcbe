"""Checks on what happens to Upgrade between the client and the server.

``upgrade-stripped`` looks for an intermediary that dropped a WebSocket
handshake's ``Upgrade``/``Connection`` (or downgraded it to HTTP/1.0), and
passes only on positive evidence that the handshake arrived.
``upgrade-unswitchable`` looks at the answers that are neither 101 nor 426
for an ``Upgrade`` field naming a protocol the connection cannot switch to.
"""

from __future__ import annotations

from .._evidence import answer_shows, excerpt, intermediary
from .._model import Exchange, Observation, Response, Severity
from .._verdict import Verdict
from ..grammar import UpgradeProtocol, parse_upgrade
from ..protocols import TOKENS
from ..protocols.roles import LEGACY
from .preconditions import upgraded_exchanges
from .registry import check as _check

# -- upgrade-stripped ------------------------------------------------------------

PROXY_FIXES = (
    "nginx: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade;"
    ' proxy_set_header Connection "upgrade"; in the location that proxies the endpoint.'
    " Apache httpd: ProxyPass /path http://backend/path upgrade=websocket (2.4.47+, where"
    " it is the default; remove SetEnv force-proxy-request-1.0 there), or"
    " mod_proxy_wstunnel with ProxyPass /path ws://backend/path before 2.4.47."
    " HAProxy: mode http forwards the upgrade by itself; remove any http-request"
    " del-header/set-header of Upgrade or Connection, and set timeout tunnel."
    " Caddy: reverse_proxy forwards WebSocket by itself; remove header_up -Upgrade or"
    " -Connection, and do not force the upstream transport to HTTP/2 (versions 2)."
)


def _names_websocket(response: Response) -> bool:
    return any(
        p.name.lower() == "websocket"
        for p in parse_upgrade(response.combined("upgrade") or "").protocols
    )


def _arrived(response: Response) -> str | None:
    """Positive evidence in the handshake's answer that its fields reached the server."""
    if response.status == 101:
        return "101 Switching Protocols"
    # Only a server that read Sec-WebSocket-Key/-Version answers with these
    # (RFC 6455 §4.2.2): the handshake's own fields are reflected.
    for name in ("sec-websocket-accept", "sec-websocket-version"):
        if (value := response.combined(name)) is not None:
            title = "Sec-WebSocket-" + name.rsplit("-", 1)[1].title()
            return f"{response.status_line} with {title}: {value}"
    return None


def _refused_before_routing(response: Response, plain: Response | None) -> str | None:
    """The refusal both requests got from a check that runs before routing, or None.

    The same redirect, 401, 403 or 429 to the plain GET and the handshake comes
    from authentication, authorization, rate limiting or a redirect in front of
    every route: it is decided without looking at Upgrade, so it says nothing
    about whether Upgrade and Connection arrived (RFC 9110 §7.6.1).
    """
    status = response.status
    if plain is None or not (300 <= status < 400 or status in (401, 403, 429)):
        return None
    if (plain.status, plain.body) != (status, response.body):
        return None
    return (
        f"the plain GET and the handshake got the same {response.status_line} (body"
        f" {excerpt(response.body, 80)!r}): a refusal decided before routing (authentication,"
        " authorization, rate limiting, a redirect) says nothing about stripped Upgrade and"
        " Connection fields"
    )


def _stripped(response: Response, plain: Response | None) -> str | None:
    """What in the handshake's answer shows the server never saw the upgrade, or None."""
    if response.status == 505:
        # The handshake went out as HTTP/1.1 (RFC 6455 §4.1 requires it); a 505
        # shows the server received another version: HTTP/1.0 from a proxy,
        # which cannot carry an upgrade (RFC 9110 §7.8).
        return (
            "it was answered 505 HTTP Version Not Supported although it was sent as HTTP/1.1:"
            " it reached the server as another version (HTTP/1.0, which cannot upgrade)"
        )
    if response.status in (400, 426) and _names_websocket(response):
        return (
            f"it was answered {response.status} with Upgrade:"
            f" {response.combined('upgrade')}, asking for the very upgrade the client sent"
        )
    if (
        plain is not None
        and plain.status not in (101, 404)
        and _refused_before_routing(response, plain) is None
        and (plain.status, plain.body) == (response.status, response.body)
    ):
        # A 404 to both says as much about a path without any endpoint as about
        # a dropped handshake: not evidence either way.
        return (
            f"it was answered exactly like the plain GET ({plain.status_line},"
            f" body {excerpt(plain.body, 80)!r}): the server could not tell them apart"
        )
    return None


def _handshakes(observation: Observation) -> list[tuple[Exchange, Response]]:
    return [(e, e.response) for e in upgraded_exchanges(observation) if e.response is not None]


@_check(
    "upgrade-stripped",
    Severity.MUST,
    "RFC 9110 §7.6.1, §7.8; RFC 6455 §4.1",
    "A proper WebSocket handshake reaches the server: answered with 101 or an answer that"
    " reflects its fields, not like the plain GET, with 505, or with a request for the same"
    " upgrade (signs that an intermediary stripped Upgrade/Connection).",
    ("websocket",),
)
def check_upgrade_stripped(observation: Observation) -> Verdict:
    answered = _handshakes(observation)
    if not answered:
        return Verdict.skip("no WebSocket handshake got an HTTP answer")
    legacy = observation.exchange(LEGACY)
    plain = legacy.response if legacy is not None else None
    for exchange, response in answered:
        sign = _stripped(response, plain)
        if sign is None:
            continue
        shown = intermediary(response)
        names = (
            f"The answer names {shown}."
            if shown
            else "The answer names no Server or Via field, so the intermediary is not named."
        )
        return Verdict.violated(
            f"the proper WebSocket handshake to {exchange.url} did not reach the server as sent:"
            f" {sign}",
            expected="101 Switching Protocols (or an answer reflecting the handshake's fields)",
            actual=answer_shows(response),
            diagnosis=(
                "Something between the client and the WebSocket server dropped the hop-by-hop"
                " Upgrade and Connection fields (RFC 9110 §7.6.1) or forwarded the request as"
                f" HTTP/1.0, so the server saw a plain GET. {names} Fixes: {PROXY_FIXES}"
            ),
        )
    arrived = [(e, _arrived(r)) for e, r in answered]
    unclear = [(e, r) for (e, r), (_, sign) in zip(answered, arrived, strict=True) if sign is None]
    if unclear:
        exchange, response = unclear[0]
        if (before_routing := _refused_before_routing(response, plain)) is not None:
            return Verdict.skip(before_routing)
        plain_text = plain.status_line if plain is not None else "no answer"
        return Verdict.skip(
            f"cannot tell whether the handshake to {exchange.url} reached the server: it was"
            f" answered {response.status_line} (the plain GET: {plain_text}), which neither"
            " reflects the handshake's fields nor shows them dropped"
        )
    return Verdict.ok(
        "the handshake reached the server: "
        + "; ".join(f"{e.url}: {sign}" for e, sign in arrived if sign is not None),
    )


# -- upgrade-unswitchable ----------------------------------------------------------


def _cannot_switch(protocol: UpgradeProtocol, tls: bool) -> str | None:
    """Why a connection cannot switch to ``protocol`` through Upgrade, or None."""
    name = protocol.name.lower()
    if name == "h2" and protocol.version is None:
        # RFC 9113 §3.1-3.2: "h2" identifies HTTP/2 over TLS and is negotiated
        # only in ALPN; RFC 7540 §3.2 told servers to ignore it in Upgrade.
        return "h2 is an ALPN identifier, selected in the TLS handshake, never by Upgrade"
    if name == "h2c" and protocol.version is None and tls:
        # RFC 9113 §3.1: h2c is HTTP/2 over cleartext TCP (and deprecated as an
        # upgrade token); a TLS connection cannot become cleartext.
        return "h2c is cleartext HTTP/2, which a TLS connection cannot switch to"
    return None


def _is_tls(exchange: Exchange) -> bool:
    if exchange.transport is not None:
        return exchange.transport.scheme == "https"
    return exchange.url.startswith(("https://", "wss://"))


@_check(
    "upgrade-unswitchable",
    Severity.SHOULD,
    "RFC 9110 §7.8; RFC 9113 §3.1",
    "An Upgrade field on an answer that is neither 101 nor 426 names only protocols the"
    " connection can switch to (not h2, an ALPN-only identifier; not h2c over TLS).",
    TOKENS,
)
def check_upgrade_unswitchable(observation: Observation) -> Verdict:
    ordinary = [
        e
        for e in observation.exchanges
        if e.response is not None
        and e.response.http_version in ("1.0", "1.1")
        and e.response.status not in (101, 426)
    ]
    if not ordinary:
        return Verdict.skip("no HTTP/1.x answer other than 101 or 426 to look at")
    found: list[str] = []
    for exchange in ordinary:
        response = exchange.response
        assert response is not None
        value = response.combined("upgrade")
        if value is None:
            continue
        tls = _is_tls(exchange)
        reasons = [
            why
            for protocol in parse_upgrade(value).protocols
            if (why := _cannot_switch(protocol, tls)) is not None
        ]
        if reasons:
            over = "TLS" if tls else "cleartext"
            found.append(
                f"{exchange.role} ({response.status_line} over {over}): Upgrade: {value}"
                f" ({'; '.join(reasons)})"
            )
    if found:
        return Verdict.violated(
            "an ordinary answer advertises an upgrade the connection cannot make",
            expected="no Upgrade field, or one naming protocols this connection can switch to",
            actual="; ".join(found),
            diagnosis=(
                "RFC 9110 §7.8 lets a server advertise in Upgrade only protocols a later request"
                " can switch to; h2 is chosen by ALPN (RFC 9113 §3.1), and clients have failed on"
                " this field (Node's HTTP parser, Safari behind proxies). Apache httpd adds it"
                " to every HTTP/1.1 answer for each protocol its Protocols directive lists"
                " before http/1.1: write Protocols http/1.1 h2 with ProtocolsHonorOrder off"
                " (clients, who list h2 first in ALPN, still get HTTP/2); H2Upgrade off does not"
                " remove it. Elsewhere, remove the Upgrade field from these answers."
            ),
        )
    return Verdict.ok(
        f"no Upgrade field naming a protocol the connection cannot switch to, on {len(ordinary)}"
        " ordinary answer(s)"
    )
