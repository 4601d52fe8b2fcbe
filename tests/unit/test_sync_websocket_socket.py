"""The sync WebSocket client's socket: reads wait for the handshake request (_clients)."""

from __future__ import annotations

import socket
import threading
from typing import cast

import pytest

from pytest_upgrade._clients import _RequestFirstSocket


class _Peer:
    """A connected socket whose peer has already answered: recv returns at once."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def recv(self, size: int) -> bytes:
        self.calls.append("recv")
        return b"HTTP/1.1 101 \r\n"

    def sendall(self, data: bytes) -> None:
        self.calls.append("sendall")

    def shutdown(self, how: int) -> None:
        self.calls.append("shutdown")

    def close(self) -> None:
        self.calls.append("close")

    def fileno(self) -> int:
        return 7


def _reading(wrapped: _RequestFirstSocket) -> tuple[threading.Thread, list[bytes]]:
    received: list[bytes] = []
    thread = threading.Thread(target=lambda: received.append(wrapped.recv(4096)))
    thread.start()
    return thread, received


@pytest.mark.parametrize("release", ["sendall", "shutdown", "close"])
def test_the_reader_waits_for_the_first_write_or_the_end(release: str) -> None:
    peer = _Peer()
    wrapped = _RequestFirstSocket(cast(socket.socket, peer))
    thread, received = _reading(wrapped)
    thread.join(0.2)
    assert thread.is_alive()  # the answer is there, yet not read
    assert peer.calls == []
    if release == "sendall":
        wrapped.sendall(b"GET / HTTP/1.1\r\n\r\n")
    elif release == "shutdown":
        wrapped.shutdown(socket.SHUT_RDWR)
    else:
        wrapped.close()
    thread.join(5)
    assert not thread.is_alive()
    assert peer.calls == [release, "recv"]
    assert received == [b"HTTP/1.1 101 \r\n"]


def test_a_failed_write_releases_the_reader_too() -> None:
    class Broken(_Peer):
        def sendall(self, data: bytes) -> None:
            raise BrokenPipeError("the server closed")

    wrapped = _RequestFirstSocket(cast(socket.socket, Broken()))
    with pytest.raises(BrokenPipeError):
        wrapped.sendall(b"GET / HTTP/1.1\r\n\r\n")
    thread, received = _reading(wrapped)
    thread.join(5)
    assert received == [b"HTTP/1.1 101 \r\n"]


def test_everything_else_is_the_socket_s_own() -> None:
    assert _RequestFirstSocket(cast(socket.socket, _Peer())).fileno() == 7
