"""The in-band TLS upgrade (RFC 2817): a 426 naming TLS/1.x, and the switch it points to."""

from __future__ import annotations

from .._evidence import answer_shows
from .._model import Exchange, FailureKind, Observation, Response, Severity
from .._verdict import Verdict
from ..grammar import parse_upgrade
from ..protocols import version_tuple
from ..protocols.roles import LEGACY
from ..protocols.tls import TLS_UPGRADE, TLS_UPGRADED
from .preconditions import TLS_REQUIREMENTS, required_tls
from .registry import Phase
from .registry import check as _check

_BUNDLED = (
    "the bundled server (hypercorn) cannot switch a cleartext connection to TLS (RFC 2817) by"
    " itself, and an app cannot make it, so it was not tried. This is the test server's limit,"
    " not the app's: let the bundled server perform it with upgrade_server_options"
    " {'tls_upgrade': True}, or check the deployment with --upgrade-target"
)


def _advertised(observation: Observation) -> tuple[str | None, str]:
    """The TLS token the cleartext 426 names ("TLS/1.2"), or None and why there is none."""
    legacy = observation.exchange(LEGACY)
    response = legacy.response if legacy is not None else None
    if response is None:
        return None, "no cleartext answer to look at"
    named = [
        p
        for p in parse_upgrade(response.combined("upgrade") or "").protocols
        if p.name.lower() == "tls"
    ]
    if response.status != 426 or not named:
        upgrade = response.combined("upgrade")
        shown = f", Upgrade: {upgrade}" if upgrade else ""
        return None, (
            f"the cleartext answer ({response.status_line}{shown}) is not a 426 naming TLS/1.x,"
            " so it does not point to the in-band upgrade"
        )
    return str(named[0]), ""


def _tls_named(response: Response) -> bool:
    return any(
        p.name.lower() == "tls" for p in parse_upgrade(response.combined("upgrade") or "").protocols
    )


# Should, not must: RFC 2817 §3.3 obliges a server only "if [it] is prepared to
# initiate the TLS handshake". But a 426 naming TLS/1.x tells the client to
# proceed with the operations of RFC 2817 §3 (§4.2), so a server that cannot
# perform them sends clients that follow it (IPP printers, CUPS) nowhere.
@_check(
    "tls-upgrade-performed",
    Severity.SHOULD,
    "RFC 2817 §4.2, §3.2",
    "When the cleartext 426 names TLS/1.x, the in-band upgrade it points to is performed:"
    " OPTIONS * with Upgrade: TLS/1.x and Connection: Upgrade gets 101 (a redirect to https"
    " instead of the 426 does not advertise it).",
    TLS_REQUIREMENTS,
    phase=Phase.REFUSAL,
)
def check_tls_upgrade_performed(observation: Observation) -> Verdict:
    token, reason = _advertised(observation)
    if token is None:
        return Verdict.skip(reason)
    exchange = observation.exchange(TLS_UPGRADE)
    if exchange is None:
        if observation.bundled:
            return Verdict.skip(_BUNDLED)
        return Verdict.skip("no in-band upgrade was tried (the target has no http URL)")
    expected = f"101 Switching Protocols to OPTIONS * with Upgrade: {_token_sent(exchange)}"
    response = exchange.response
    if response is not None and response.status == 101:
        return Verdict.ok(
            f"the 426 names {token} and the in-band upgrade is answered with 101",
            expected=expected,
            actual=response.status_line,
        )
    actual = answer_shows(response) if response is not None else _failure(exchange)
    return Verdict.violated(
        f"the 426 names {token}, but the in-band upgrade it points to was not performed ({actual})",
        expected=expected,
        actual=actual,
        diagnosis=(
            f"A 426 with Upgrade: {token} tells clients to switch this connection to TLS"
            " (RFC 2817 §4.2), as IPP clients and printers do; this server cannot. Either"
            " perform the upgrade (answer 101 and start TLS on the connection, RFC 2817 §3.3),"
            " or answer cleartext requests with a 308 redirect to the https URL, which names no"
            " in-band upgrade."
        ),
    )


def _token_sent(exchange: Exchange) -> str:
    offer = exchange.offer
    return (offer.tls_upgrade if offer is not None else None) or "TLS/1.x"


def _failure(exchange: Exchange) -> str:
    return exchange.failure.message if exchange.failure else "nothing recorded"


@_check(
    "tls-upgrade-switch",
    Severity.MUST,
    "RFC 2817 §3.3",
    "After a 101 to Upgrade: TLS/1.x the 101 names TLS, the TLS handshake completes on the"
    " same connection (certificate verified, at least the required version), the server answers"
    " the OPTIONS * over it, and the request made over it is answered with neither 426 nor 5xx.",
    TLS_REQUIREMENTS,
)
def check_tls_upgrade_switch(observation: Observation) -> Verdict:
    upgrade = observation.exchange(TLS_UPGRADE)
    switched = upgrade.response if upgrade is not None else None
    if upgrade is None or switched is None or switched.status != 101:
        # No 101: nothing to follow (tls-upgrade-performed says why there was none).
        return Verdict.not_applicable("no in-band TLS upgrade was answered with 101")
    minimum = "TLSv" + ".".join(map(str, required_tls(observation)))
    expected = (
        f"101 with Upgrade naming TLS, then a {minimum} (or later) handshake with a verified"
        " certificate, and the request answered"
    )
    if not _tls_named(switched):
        return Verdict.violated(
            "the 101 does not name TLS in its Upgrade field",
            expected=expected,
            actual=f"{switched.status_line}, Upgrade: {switched.combined('upgrade')}",
            diagnosis=(
                "A server switching to TLS must list the protocol stack it switches to in the"
                " 101's Upgrade field (RFC 2817 §3.3), e.g. Upgrade: TLS/1.2, HTTP/1.1."
            ),
        )
    exchange = observation.exchange(TLS_UPGRADED)
    if exchange is None:  # pragma: no cover - the probe records one after every 101
        return Verdict.skip("nothing was recorded after the 101")
    if exchange.failure is not None:
        return Verdict.violated(
            "the server answered 101 but the upgraded connection failed:"
            f" {exchange.failure.message}",
            expected=expected,
            actual=exchange.failure.message,
            diagnosis=_switch_failed(exchange.failure.kind, exchange.failure.message),
        )
    transport, response = exchange.transport, exchange.response
    assert transport is not None
    assert response is not None
    negotiated = version_tuple((transport.tls_version or "").removeprefix("TLSv")) or (0,)
    actual = f"{transport.tls_version}, then {response.status_line}"
    if negotiated < required_tls(observation):  # pragma: no cover - the client offers no less
        return Verdict.violated(
            f"{transport.tls_version} was negotiated", expected=expected, actual=actual
        )
    if response.status == 426 or response.status >= 500:
        return Verdict.violated(
            f"over the upgraded connection the request was answered with {response.status}",
            expected=expected,
            actual=answer_shows(response),
            diagnosis=(
                "After the switch the request arrives over TLS, yet it is refused or fails: the"
                " server does not treat a connection upgraded in-band as secure."
            ),
        )
    return Verdict.ok(
        f"switched to {transport.tls_version} in-band and the request was answered",
        expected=expected,
        actual=actual,
    )


def _switch_failed(kind: FailureKind, message: str) -> str:
    if "certificate verify failed" in message:
        return (
            "The certificate the server presents after its 101 does not verify for this host:"
            " give the in-band listener the certificate the https one has (or, for a private CA,"
            " pass it with --upgrade-ca). A client must not go on over an unverified TLS"
            " connection."
        )
    return _SWITCH_FAILED.get(kind, _SWITCH_FAILED[None])


_SWITCH_FAILED: dict[FailureKind | None, str] = {
    FailureKind.PROTOCOL: (
        "After its 101 the server must start TLS at once (RFC 2817 §3.3); the handshake or what"
        " followed it was invalid."
    ),
    FailureKind.TLS_REFUSED: (
        "After its 101 the server must complete the TLS handshake (RFC 2817 §3.3); it refused"
        " it or closed the connection: the in-band upgrade is advertised but does not work."
    ),
    None: (
        "Once the TLS handshake completes, the server must continue with the response to the"
        " request that asked for the upgrade (RFC 2817 §3.3), then serve requests over TLS."
    ),
}
