"""What a WebSocket client offers in its opening handshake, beyond the RFC 6455 fields.

Every WebSocket probe (the RFC 6455 handshake over ws:// and wss://, the
unassigned-version probe, the RFC 8441 CONNECT) and the test body's client
offer the same things, built here once:

- the subprotocols (``Sec-WebSocket-Protocol``, RFC 6455 §4.1 item 10);
- an ``Origin`` (RFC 6454 §7), as every browser sends (RFC 6455 §4.1 item 8):
  the target's own origin, as a page served from it would, unless the
  requirement's headers give one or the requirement asks for none. Servers may
  refuse a handshake without it (RFC 6455 §10.2), and many do (Django Channels'
  ``AllowedHostsOriginValidator``, Node ``ws`` with ``verifyClient``);
- extensions (``Sec-WebSocket-Extensions``): only ``permessage-deflate``
  (RFC 7692), which the client then really negotiates, so that a server
  accepting the offer is not refused by the client that made it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # websockets is imported where an offer is made, not at collection
    from websockets.extensions.base import ClientExtensionFactory

    from .endpoint import Endpoint

__all__ = [
    "EXTENSIONS",
    "PROTOCOL",
    "WebSocketOffer",
    "deflate_factories",
    "handshake_headers",
    "origin_of",
    "split_protocols",
    "without",
]

EXTENSIONS = "sec-websocket-extensions"
PROTOCOL = "sec-websocket-protocol"
_DEFLATE = "permessage-deflate"
_FLAGS = ("server_no_context_takeover", "client_no_context_takeover")
_BITS = ("server_max_window_bits", "client_max_window_bits")


@dataclass(frozen=True)
class WebSocketOffer:
    """What a WebSocket probe offers besides the request's own fields: ``subprotocols``
    and, unless ``default_origin`` is off or the request has one, the target's ``Origin``."""

    subprotocols: tuple[str, ...] = ()
    default_origin: bool = True


def origin_of(endpoint: Endpoint) -> str:
    """The serialized origin of a page served by ``endpoint`` (RFC 6454 §6.2)."""
    return f"{endpoint.scheme}://{endpoint.authority}"


def without(headers: Sequence[tuple[str, str]], name: str) -> tuple[tuple[str, str], ...]:
    """``headers`` less every field called ``name`` (case-insensitive)."""
    return tuple((k, v) for k, v in headers if k.lower() != name)


def split_protocols(
    headers: Sequence[tuple[str, str]], subprotocols: Sequence[str]
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """``headers`` less ``Sec-WebSocket-Protocol``, and the offer with its subprotocols added.

    A field given among the headers (from ``--upgrade-header``, say) is read as
    the same offer as ``subprotocols=``, so that it is sent once (RFC 6455 §4.1).
    """
    offered = list(subprotocols)
    for name, value in headers:
        if name.lower() == PROTOCOL:
            offered += [item.strip(" \t") for item in value.split(",") if item.strip(" \t")]
    return without(headers, PROTOCOL), tuple(dict.fromkeys(offered))


def handshake_headers(
    headers: Sequence[tuple[str, str]],
    endpoint: Endpoint,
    *,
    default_origin: bool,
    subprotocols: Sequence[str] = (),
) -> tuple[tuple[str, str], ...]:
    """The fields a hand-written handshake to ``endpoint`` adds to the requirement's ``headers``.

    An ``Origin`` of the target's own unless ``headers`` has one or
    ``default_origin`` is off; ``Sec-WebSocket-Protocol`` listing
    ``subprotocols`` (RFC 6455 §4.1 item 10), once.
    """
    fields = list(headers)
    if default_origin and not any(k.lower() == "origin" for k, _ in fields):
        fields.append(("Origin", origin_of(endpoint)))
    if subprotocols:
        fields.append(("Sec-WebSocket-Protocol", ", ".join(subprotocols)))
    return tuple(fields)


def deflate_factories(value: str) -> list[ClientExtensionFactory]:
    """The client side of a ``Sec-WebSocket-Extensions`` offer, or a ValueError saying why not.

    Only ``permessage-deflate`` and its four parameters (RFC 7692 §7.1) can be
    negotiated by the probes' client; an offer of anything else could not be
    honoured when a server accepts it (RFC 6455 §9.1), so it is refused.
    """
    from websockets.exceptions import InvalidHeader  # noqa: PLC0415 (see above)
    from websockets.headers import parse_extension  # noqa: PLC0415

    try:
        offers = parse_extension(value)
    except InvalidHeader as exc:
        raise ValueError(f"Sec-WebSocket-Extensions {value!r} does not parse: {exc}") from None
    factories: list[ClientExtensionFactory] = []
    for name, params in offers:
        if name != _DEFLATE:
            raise ValueError(
                f"Sec-WebSocket-Extensions offers {name!r}, which the probes' WebSocket client"
                f" cannot negotiate; only {_DEFLATE} (RFC 7692) can be offered"
            )
        factories.append(_deflate(dict(params)))
    return factories


def _deflate(params: dict[str, str | None]) -> ClientExtensionFactory:
    from websockets.extensions.permessage_deflate import (  # noqa: PLC0415 (see above)
        ClientPerMessageDeflateFactory,
    )

    unknown = sorted(set(params) - {*_FLAGS, *_BITS})
    if unknown:
        raise ValueError(
            f"{_DEFLATE} has no parameter {', '.join(unknown)} (RFC 7692 §7.1); known:"
            f" {', '.join((*_FLAGS, *_BITS))}"
        )
    bits: dict[str, int | None] = {}
    for name in _BITS:
        if name not in params:
            continue
        raw = params[name]
        # RFC 7692 §7.1.2: 8 to 15; the client's may come without a value.
        if raw is None and name == "client_max_window_bits":
            bits[name] = None
            continue
        if raw is None or not raw.isdigit() or not 8 <= int(raw) <= 15:
            raise ValueError(f"{_DEFLATE}: {name} must be 8 to 15 (RFC 7692 §7.1.2), got {raw!r}")
        bits[name] = int(raw)
    client_bits: int | Literal[True] | None = None
    if "client_max_window_bits" in bits:
        client_bits = bits["client_max_window_bits"] or True
    try:
        return ClientPerMessageDeflateFactory(
            server_no_context_takeover="server_no_context_takeover" in params,
            client_no_context_takeover="client_no_context_takeover" in params,
            server_max_window_bits=bits.get("server_max_window_bits"),
            client_max_window_bits=client_bits,
        )
    except ValueError as exc:
        raise ValueError(f"{_DEFLATE}: {exc}") from None
