"""A loopback reverse proxy that makes the classic mistake: it drops Upgrade and Connection.

Many proxies treat every hop-by-hop field as theirs to remove (RFC 9110
§7.6.1) and forward a WebSocket handshake as a plain GET, unless told to pass
``Upgrade``/``Connection`` on (nginx: ``proxy_set_header Upgrade $http_upgrade``).
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Iterator

from support.listening import accepting

_STRIPPED = (b"upgrade", b"connection")


def _read_head(conn: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk or len(data) > 256 * 1024:
            raise ConnectionError("no complete request head")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _strip(head: bytes) -> bytes:
    request_line, *fields = head.split(b"\r\n")
    kept = [f for f in fields if f.split(b":", 1)[0].strip().lower() not in _STRIPPED]
    return b"\r\n".join([request_line, *kept, b"Connection: close"]) + b"\r\n\r\n"


def relay(client: socket.socket, upstream: socket.socket) -> None:
    peers = {client: upstream, upstream: client}
    while True:
        readable, _, _ = select.select(list(peers), [], [], 10)
        if not readable:
            return
        for sock in readable:
            data = sock.recv(65536)
            if not data:
                return
            peers[sock].sendall(data)


def _serve(client: socket.socket, upstream_port: int) -> None:
    with contextlib.suppress(OSError), client:
        client.settimeout(10)
        head, rest = _read_head(client)
        with socket.create_connection(("127.0.0.1", upstream_port), timeout=10) as upstream:
            upstream.sendall(_strip(head) + rest)
            relay(client, upstream)


@contextlib.contextmanager
def stripping_proxy(upstream_port: int) -> Iterator[int]:
    """Proxy 127.0.0.1:<yielded port> to 127.0.0.1:upstream_port, dropping Upgrade/Connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    workers: list[threading.Thread] = []
    try:
        with accepting(listener, lambda client: _serve(client, upstream_port)) as workers:
            yield listener.getsockname()[1]
    finally:
        for worker in workers:
            worker.join(12)
        listener.close()
