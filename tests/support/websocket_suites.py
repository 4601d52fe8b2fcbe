"""Suites for inner runs against WebSocket endpoints whose test bodies use the connection."""

from __future__ import annotations

__all__ = ["deflate_echo"]


def deflate_echo(path: str) -> str:
    """A module whose ``test_deflate`` offers permessage-deflate (RFC 7692) in
    ``headers=`` to the endpoint at ``path``, asserts that the body's connection
    negotiated it, and echoes a compressible message through it."""
    return f"""
import pytest

@pytest.mark.requires_upgrade(
    "websocket", path={path!r}, headers={{"Sec-WebSocket-Extensions": "permessage-deflate"}}
)
def test_deflate(upgrade):
    names = [extension.name for extension in upgrade.websocket.protocol.extensions]
    assert names == ["permessage-deflate"]
    upgrade.websocket.send("ping" * 100)
    assert upgrade.websocket.recv(timeout=5) == "ping" * 100
"""
