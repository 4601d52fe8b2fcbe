"""The accept loop of the test servers written on sockets (support.hostile, support.proxy
and the small servers of some tests): a thread that accepts until told to stop, each
connection handled in a thread of its own."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["accepting"]


@contextlib.contextmanager
def accepting(
    listener: socket.socket,
    handle: Callable[[socket.socket], None],
    *,
    peers: list[Any] | None = None,
    connections: list[socket.socket] | None = None,
) -> Iterator[list[threading.Thread]]:
    """Accept on ``listener`` until the block ends; yield the handlers' threads.

    ``peers`` and ``connections``, when given, get each connection's peer address
    and socket as it is accepted. On leaving, the loop stops (within 0.1 s) and
    is waited for; the handlers, the sockets and the listener are the caller's.
    """
    listener.settimeout(0.1)
    stop = threading.Event()
    handlers: list[threading.Thread] = []

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                conn, peer = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if peers is not None:
                peers.append(peer[:2])
            if connections is not None:
                connections.append(conn)
            handler = threading.Thread(target=handle, args=(conn,), daemon=True)
            handlers.append(handler)
            handler.start()

    acceptor = threading.Thread(target=accept_loop, daemon=True)
    acceptor.start()
    try:
        yield handlers
    finally:
        stop.set()
        acceptor.join(5)
