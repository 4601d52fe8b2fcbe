"""``websocket``: the path is a WebSocket endpoint (RFC 6455)."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from functools import partial

from .._evidence import answer_shows
from .._model import Exchange, Observation, Requirement, Response
from .._verdict import Verdict
from ..grammar import UNASSIGNED_WEBSOCKET_VERSION
from ..probes.endpoint import Endpoint
from ..probes.http1 import http1_exchange
from ..probes.target import Probe, Target
from ..probes.websocket_offer import WebSocketOffer, handshake_headers, split_protocols
from ._base import Protocol, mention, token_verdict
from .pieces import requirement_request
from .roles import LEGACY, UPGRADED

__all__ = ["UPGRADED_WS", "VERSION_PROBE", "WEBSOCKET", "WEBSOCKET_H2"]

# The handshake again over the target's ws:// URL beside its wss:// one: an upgraded request.
UPGRADED_WS = "upgraded-ws"
# The role of the WebSocket-over-HTTP/2 exchange (not an upgraded request: judged on its own).
WEBSOCKET_H2 = "websocket-h2"
# The handshake offering a version no server supports (RFC 6455 §4.2.2).
VERSION_PROBE = "version-probe"


def _plan(requirement: Requirement, target: Target, timeout: float) -> list[Probe]:
    from ..probes.websocket import websocket_handshake  # noqa: PLC0415 (websockets only when needed)

    primary = target.primary
    spec = target.spec_for(primary, timeout)
    plain_get = requirement_request(requirement, target).but(method="GET")
    # A Sec-WebSocket-Protocol among the headers (--upgrade-header, say) is
    # part of the same offer: the handshake writes the field once.
    headers, subprotocols = split_protocols(plain_get.headers, requirement.subprotocols)
    request = plain_get.but(headers=headers)

    offering = WebSocketOffer(subprotocols, requirement.default_origin)

    def handshake(probe: Callable[..., Exchange], endpoint: Endpoint, role: str) -> Probe:
        return partial(
            probe, target.spec_for(endpoint, timeout), request, role=role, offering=offering
        )

    probes: list[Probe] = [
        # A plain GET, as a client that does not know the route is a WebSocket sends.
        partial(http1_exchange, spec, plain_get, role=LEGACY),
        handshake(websocket_handshake, primary, UPGRADED),
    ]
    if target.https is not None and target.http is not None:
        probes.append(handshake(websocket_handshake, target.http, UPGRADED_WS))
    if target.https is not None:
        from ..probes.websocket_h2 import websocket_over_h2  # noqa: PLC0415 (as above)

        # RFC 8441: what browsers do when the server's HTTP/2 SETTINGS allow it.
        probes.append(handshake(websocket_over_h2, target.https, WEBSOCKET_H2))
    # RFC 6455 §4.2.2: an unsupported Sec-WebSocket-Version must be refused
    # with the versions the server supports. The version is one no server can
    # support (unassigned by IANA; see UNASSIGNED_WEBSOCKET_VERSION). It offers
    # what the proper handshake offers, so that only the version differs.
    offered = handshake_headers(
        headers, primary, default_origin=requirement.default_origin, subprotocols=subprotocols
    )
    version_probe = plain_get.but(
        headers=(
            *offered,
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Key", base64.b64encode(os.urandom(16)).decode("ascii")),
            ("Sec-WebSocket-Version", UNASSIGNED_WEBSOCKET_VERSION),
        )
    )
    probes.append(partial(http1_exchange, spec, version_probe, role=VERSION_PROBE))
    return probes


def _upgrade_field(observation: Observation, response: Response, value: str) -> Verdict:
    # RFC 6455 §4.2.2 / §11.2: the upgrade token is "websocket", case-insensitive.
    return token_verdict(value, "websocket", "websocket")


def _upgraded(observation: Observation, exchange: Exchange) -> Verdict:
    """RFC 6455 §4.1: a 101 the client accepts switches the connection."""
    expected = "101 Switching Protocols, accepted by an RFC 6455 client"
    response = exchange.response
    if response is None or response.status != 101:
        actual = response.status_line if response else "no response"
        return Verdict.skip(f"the handshake did not switch protocols ({actual})")
    if exchange.failure is not None:
        return Verdict.violated(
            f"the client refused the switch: {exchange.failure.message}",
            expected=expected,
            actual=exchange.failure.message,
            diagnosis="See websocket-accept for the handshake fields.",
        )
    return Verdict.ok(
        "the connection switched to WebSocket", expected=expected, actual=response.status_line
    )


def _upgraded_answer(response: Response, expected: str) -> Verdict | None:
    """RFC 6455 §4.1: the handshake succeeds with 101 and nothing else."""
    if response.status == 505:
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
    if response.status < 500 and response.status != 101:
        return Verdict.violated(
            f"the WebSocket handshake was answered with {response.status}, not 101",
            expected=expected,
            actual=response.status_line,
            diagnosis=_refused(response),
        )
    return None


def _refused(response: Response) -> str:
    if b"subprotocol" in response.body.lower():
        # websockets' serve(subprotocols=...) answers 400 "missing subprotocol".
        return (
            "The server refused the handshake for its subprotocol (RFC 6455 §4.1,"
            f" {answer_shows(response)}): declare the ones the endpoint speaks with"
            " requires_upgrade('websocket', subprotocols=[...])."
        )
    return _REFUSED.get(response.status, _REFUSED[0])


_REFUSED = {
    0: "The server does not accept WebSocket connections on this path.",
    401: (
        "The handshake was refused for want of credentials (RFC 9110 §15.5.2): give them with"
        " headers={'Authorization': ...} on the requirement."
    ),
    403: (
        "A 403 to a WebSocket handshake usually comes from an Origin check (RFC 6455 §10.2:"
        " Django Channels' AllowedHostsOriginValidator, Socket.IO's cors option, ws's"
        " verifyClient). The probes send the target's own origin (Origin: https://host:port, as a"
        " page served from it would) unless headers={'Origin': ...} gives another or origin=False"
        " sends none: allow that origin on the server, or declare the one it allows. Otherwise"
        " the route refuses WebSocket connections here (authorization, a wrong path)."
    ),
}


def _legacy_status(observation: Observation, response: Response) -> str | None:
    status = response.status
    if status in (200, 400, 403, 404, 405):
        return (
            f"A WebSocket endpoint received a plain GET and answered {status}: a client that"
            " does not know the route is a WebSocket cannot tell what to do. Answer plain"
            " requests on it with 426 and Upgrade: websocket."
        )
    if status == 505:
        # The plain GET went out as HTTP/1.1 (RFC 9112 §2.3): a 505 to it shows
        # that the server received another version, as behind a proxy that
        # speaks HTTP/1.0 to its backend (nginx without proxy_http_version 1.1).
        return (
            "505 to an HTTP/1.1 request: whoever answered received another HTTP version than"
            f" the client sent, typically HTTP/1.0 from a reverse proxy ({answer_shows(response)})."
            " See upgrade-stripped for the proxy settings."
        )
    return None


WEBSOCKET = Protocol(
    token="websocket",
    aliases=(),
    mention=mention(r"web ?sockets?|wss?://\S*"),
    roles=(LEGACY, UPGRADED, UPGRADED_WS, VERSION_PROBE, WEBSOCKET_H2),
    upgraded_roles=(UPGRADED, UPGRADED_WS),
    plan=_plan,
    judge_upgrade_field=_upgrade_field,
    judge_upgraded=_upgraded,
    client_options=None,  # the test body gets upgrade.websocket
    enforce=None,  # a WebSocket route is a property of a path, not of the server
    upgraded_success="101 Switching Protocols",
    judge_upgraded_answer=_upgraded_answer,
    also_refused=(
        "The proper handshake was refused like a plain request: the server did not see its"
        " Upgrade (see upgrade-stripped)."
    ),
    diagnose_legacy_status=_legacy_status,
    cors=False,
)
