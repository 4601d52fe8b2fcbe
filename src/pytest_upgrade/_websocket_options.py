"""The WebSocket options of a requirement: ``subprotocols=`` and ``origin=``, validated.

Pure, like the rest of ``_requirements``: user input in, the values of a
:class:`Requirement` or a ``ValueError`` naming the bad value out.

- ``subprotocols=["graphql-transport-ws", ...]`` on the marker,
  ``subprotocols=a,b`` on a declared line: the subprotocols every handshake
  offers (RFC 6455 §4.1 item 10: tokens, unique). A ``Sec-WebSocket-Protocol``
  in ``headers=`` is read as the same offer and taken out of the headers, so
  that it is never sent twice.
- ``origin=False`` (``origin=none`` on a line): no ``Origin`` on the handshake
  probes, which otherwise send the requirement's ``origin=`` (a browser
  application's, which the CORS checks judge too), an ``Origin`` among the
  headers, or else the target's own origin (see ``probes.websocket_offer``).
- A ``Sec-WebSocket-Extensions`` in ``headers=`` must be an offer the probes'
  client can negotiate (``permessage-deflate``, RFC 7692); anything else is
  refused here, at collection, rather than failing a server that accepts it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .grammar import is_token, split_list
from .probes.websocket_offer import EXTENSIONS, PROTOCOL, deflate_factories, without

__all__ = ["declared_websocket_value", "websocket_options"]


def websocket_options(
    protocol: str, headers: tuple[tuple[str, str], ...], kwargs: Mapping[str, Any]
) -> tuple[tuple[tuple[str, str], ...], dict[str, Any]]:
    """The requirement's headers (less ``Sec-WebSocket-Protocol``) and its WebSocket fields."""
    if protocol != "websocket":
        if "subprotocols" in kwargs:
            raise ValueError(f"subprotocols= applies to a websocket requirement, not to {protocol}")
        if kwargs.get("origin") is False:
            raise ValueError(
                f"origin=False (no Origin) applies to a websocket requirement, not to {protocol}"
            )
        return headers, {}
    offered = _subprotocols(kwargs.get("subprotocols"))
    for name, value in headers:
        if name.lower() == PROTOCOL:
            offered += _tokens(split_list(value), f"Sec-WebSocket-Protocol {value!r}")
    extensions = [value for name, value in headers if name.lower() == EXTENSIONS]
    if extensions:
        deflate_factories(", ".join(extensions))  # raises ValueError with the reason
    # origin="https://..." (validated by parse_origin) is sent as it is; False sends none.
    fields = {
        "subprotocols": tuple(dict.fromkeys(offered)),
        "default_origin": kwargs.get("origin") is not False,
    }
    return without(headers, PROTOCOL), fields


def _subprotocols(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ValueError(
            "subprotocols must be a list of subprotocol names, such as"
            f" ['graphql-transport-ws'], got {value!r}"
        )
    return _tokens(value, "subprotocols")


def _tokens(values: Any, where: str) -> tuple[str, ...]:
    names: list[str] = []
    for name in values:
        # RFC 6455 §4.1 item 10: each subprotocol is a token (RFC 9110 §5.6.2).
        if not isinstance(name, str) or not is_token(name):
            raise ValueError(
                f"{where}: subprotocol {name!r} is not a token (RFC 6455 §4.1, RFC 9110 §5.6.2)"
            )
        names.append(name)
    return tuple(names)


def declared_websocket_value(key: str, value: str) -> object:
    """A declared line's ``key=value`` as the marker would take it."""
    if key == "subprotocols":
        return value.split(",")
    if key == "origin" and value == "none":
        return False  # a WebSocket requirement's handshakes send no Origin
    return value
