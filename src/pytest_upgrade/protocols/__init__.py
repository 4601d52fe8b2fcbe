"""The protocol registry: every requirement token, each declared in one module.

Adding a protocol is one module here declaring a :class:`Protocol` (plus the
probe module its plan uses), listed in :data:`PROTOCOLS`. Everything that
lists protocols elsewhere — the marker's accepted values and help, the
protocols the checks apply to, what enforcement accepts, the docs' order, the fuzz tests — derives
from this registry.
"""

from __future__ import annotations

from ._base import Protocol, version_tuple
from .h2 import H2
from .h2c import H2C
from .h3 import H3
from .http11 import HTTP11
from .tls import TLS12, TLS13
from .websocket import WEBSOCKET

__all__ = [
    "ENFORCEABLE",
    "PROTOCOLS",
    "REFUSED",
    "TOKENS",
    "Protocol",
    "accepted",
    "protocol_for",
    "version_tuple",
]

# In catalogue order: the order of the docs and of every listing.
PROTOCOLS: dict[str, Protocol] = {
    p.token: p for p in (H2, H2C, WEBSOCKET, TLS12, TLS13, HTTP11, H3)
}

TOKENS: tuple[str, ...] = tuple(PROTOCOLS)

# The requirements whose legacy request is refused with a 426 (all but h3).
REFUSED: tuple[str, ...] = tuple(p.token for p in PROTOCOLS.values() if p.legacy_refused)

# The requirements a server can enforce for every request.
ENFORCEABLE: tuple[str, ...] = tuple(p.token for p in PROTOCOLS.values() if p.enforce is not None)


def protocol_for(token: str) -> Protocol:
    """The registered protocol of a canonical ``token`` (KeyError names the accepted ones)."""
    try:
        return PROTOCOLS[token]
    except KeyError:
        raise KeyError(f"unregistered protocol {token!r}; registered: {accepted()}") from None


def accepted() -> str:
    """The accepted tokens and aliases, for error messages and help."""
    names: list[str] = []
    for info in PROTOCOLS.values():
        names.append(repr(info.token))
        names.extend(f"{alias!r} (alias of {info.token!r})" for alias in info.aliases)
    return ", ".join(names)
