"""Small loopback servers that misbehave on purpose (the zoo grows in its own issue)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator

Behaviour = Callable[[socket.socket], None]


def silent(conn: socket.socket) -> None:
    """Accept and never answer: hold the connection until the peer gives up."""
    with contextlib.suppress(OSError):
        conn.settimeout(30)
        while conn.recv(65536):
            pass


def ssh_banner(conn: socket.socket) -> None:
    """Speak another protocol entirely."""
    with contextlib.suppress(OSError):
        conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
        conn.recv(65536)


@contextlib.contextmanager
def hostile_server(behaviour: Behaviour) -> Iterator[int]:
    """Serve ``behaviour`` on 127.0.0.1; yields the port. Stops and joins on exit."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()
    handlers: list[threading.Thread] = []
    connections: list[socket.socket] = []

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connections.append(conn)
            handler = threading.Thread(target=behaviour, args=(conn,), daemon=True)
            handlers.append(handler)
            handler.start()

    acceptor = threading.Thread(target=accept_loop, daemon=True)
    acceptor.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        acceptor.join(5)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        for handler in handlers:
            handler.join(5)
        listener.close()
