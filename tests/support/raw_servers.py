"""Cleartext live targets written on raw sockets, for answers hypercorn never gives.

hypercorn answers some requests itself (an unsupported Sec-WebSocket-Version,
``Upgrade: h2c``, the HTTP/2 preface) and always computes Sec-WebSocket-Accept
correctly, so an app under it cannot show how the plugin judges other
answers. These small servers can: each behaviour below reads one HTTP/1.1
request head (or the HTTP/2 preface), answers it, and closes. They run in
threads through ``hostile.hostile_server``, which yields the port.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from support.hostile import Behaviour, hostile_server

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_TIMEOUT = 5.0


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    headers: dict[str, str]  # lower-cased names; repeated fields joined with ", "

    def header(self, name: str) -> str:
        return self.headers.get(name, "")


def _read_head(conn: socket.socket) -> bytes | None:
    """Bytes up to and including the blank line ending a request head (None on EOF)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    return data


def _parse(head: bytes) -> Request:
    lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        headers[name] = f"{headers[name]}, {value.strip()}" if name in headers else value.strip()
    return Request(method, target, headers)


def response(
    status: int,
    reason: str,
    headers: list[tuple[str, str]],
    body: bytes = b"",
    *,
    close: bool = True,
) -> bytes:
    """An HTTP/1.1 response; a final one has a Content-Length and (unless told) closes."""
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{name}: {value}" for name, value in headers)]
    if status >= 200:
        lines.append(f"Content-Length: {len(body)}")
        if close:
            lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def refusal(upgrade: str, detail: str, extra: list[tuple[str, str]] | None = None) -> bytes:
    """A textbook 426: Upgrade, Connection: upgrade, a problem document."""
    problem = {"type": "about:blank", "title": "Upgrade Required", "status": 426, "detail": detail}
    headers = [
        ("Upgrade", upgrade),
        ("Connection", "upgrade"),
        ("Content-Type", "application/problem+json"),
        *(extra or []),
    ]
    return response(426, "Upgrade Required", headers, json.dumps(problem).encode())


def _linger(conn: socket.socket) -> None:
    """Read until the client closes (or the timeout)."""
    with contextlib.suppress(OSError):
        while conn.recv(65536):
            pass


def _close(conn: socket.socket) -> None:
    """Close after the client did: unread request bytes at close() would reset the connection."""
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_WR)
    _linger(conn)
    conn.close()


def http1_server(
    answer: Callable[[Request], bytes],
    *,
    prior_knowledge: Callable[[socket.socket, bytes], None] | None = None,
) -> Behaviour:
    """A behaviour answering one request per connection with ``answer(request)``.

    The HTTP/2 preface goes to ``prior_knowledge`` (with the bytes read so
    far); without one it is answered like any other request line, as an
    HTTP/1.1-only server does. After a 101 the connection is a WebSocket one
    until the client closes it; after a response without ``Connection: close``
    it stays open until the client closes it.
    """

    def behaviour(conn: socket.socket) -> None:
        with contextlib.suppress(OSError, ValueError, h2.exceptions.ProtocolError):
            conn.settimeout(_TIMEOUT)
            head = _read_head(conn)
            if head is None:
                return
            if head.startswith(H2_PREFACE[:16]) and prior_knowledge is not None:
                prior_knowledge(conn, head)
                return
            wire = answer(_parse(head))
            conn.sendall(wire)
            if wire.startswith(b"HTTP/1.1 101"):
                _websocket_until_closed(conn)
            elif b"\r\nConnection: close\r\n" not in wire:
                _linger(conn)  # keep-alive: the client closes when it is done
        _close(conn)

    return behaviour


def _recv_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _websocket_until_closed(conn: socket.socket) -> None:
    """Read client frames (RFC 6455 §5.2) until a Close, and answer it (§5.5.1)."""
    with contextlib.suppress(EOFError):
        while True:
            first, second = _recv_exactly(conn, 2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", _recv_exactly(conn, 2))
            elif length == 127:
                (length,) = struct.unpack("!Q", _recv_exactly(conn, 8))
            mask = 4 if second & 0x80 else 0
            _recv_exactly(conn, mask + length)
            if first & 0x0F == 0x8:
                conn.sendall(b"\x88\x02" + struct.pack("!H", 1000))
                return


def _serve_h2(
    conn: socket.socket, received: bytes, answer: Callable[[h2.connection.H2Connection, int], bytes]
) -> None:
    """Speak HTTP/2 on ``conn`` (``received`` read already): ``answer`` answers each
    request's stream and gives the bytes to send after the answer."""
    config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
    h2conn = h2.connection.H2Connection(config=config)
    h2conn.initiate_connection()
    data = received
    while data:
        for event in h2conn.receive_data(data):
            if isinstance(event, h2.events.RequestReceived):
                after = answer(h2conn, event.stream_id)
                if after:
                    conn.sendall(h2conn.data_to_send() + after)
        conn.sendall(h2conn.data_to_send())
        data = conn.recv(65536)


def serve_h2_prior_knowledge(conn: socket.socket, received: bytes) -> None:
    """Answer every HTTP/2 request on this connection with 200 (RFC 9113 §3.3)."""

    def ok(h2conn: h2.connection.H2Connection, stream_id: int) -> bytes:
        h2conn.send_headers(stream_id, [(":status", "200"), ("content-type", "application/json")])
        h2conn.send_data(stream_id, b'{"ok": true}', end_stream=True)
        return b""

    _serve_h2(conn, received, ok)


def rst_stream(stream_id: int, error_code: int = 0) -> bytes:
    """An RST_STREAM frame (RFC 9113 §6.4); 0 is NO_ERROR."""
    return b"\x00\x00\x04\x03\x00" + struct.pack("!II", stream_id, error_code)


def h2_reset_after_answer(*, before_end: bool) -> Behaviour:
    """HTTP/2 with prior knowledge: each answer followed, in the same write, by
    RST_STREAM NO_ERROR, as Apache httpd sends it (RFC 9113 §8.1 lets a server
    send it after a complete response). ``before_end``: the answer is cut short
    (no END_STREAM) by the reset, which a complete response is not."""

    def answered_then_reset(h2conn: h2.connection.H2Connection, stream_id: int) -> bytes:
        h2conn.send_headers(stream_id, [(":status", "200")])
        h2conn.send_data(stream_id, b"answered", end_stream=not before_end)
        return rst_stream(stream_id)

    def serve(conn: socket.socket, received: bytes) -> None:
        _serve_h2(conn, received, answered_then_reset)

    return http1_server(lambda request: response(400, "Bad Request", []), prior_knowledge=serve)


# -- the servers the tests use --------------------------------------------------


def websocket_endpoint(
    *, version_answer: bytes, accept: str = "right", subprotocol: str | None = None
) -> Behaviour:
    """A WebSocket endpoint at any path, refusing plain GETs with a correct 426.

    ``version_answer`` is the response to a handshake with a
    Sec-WebSocket-Version other than 13; ``accept`` "wrong" sends a
    Sec-WebSocket-Accept that is not base64(SHA-1(key + GUID)); ``subprotocol``
    is named in every 101, offered or not (a server that RFC 6455 §4.1 clients fail).
    """

    def answer(request: Request) -> bytes:
        if "upgrade" not in request.header("connection").lower():
            return refusal("websocket", "This endpoint is a WebSocket endpoint.")
        if request.header("sec-websocket-version") != "13":
            return version_answer
        key = request.header("sec-websocket-key")
        if accept == "wrong":
            key += "x"
        digest = hashlib.sha1((key + WEBSOCKET_GUID).encode("ascii")).digest()
        headers = [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", base64.b64encode(digest).decode("ascii")),
        ]
        if subprotocol is not None:
            headers.append(("Sec-WebSocket-Protocol", subprotocol))
        return response(101, "Switching Protocols", headers)

    return http1_server(answer)


def h2c_endpoint(*, prior_knowledge: bool, keep_alive: bool = False) -> Behaviour:
    """Refuses HTTP/1.1 (including ``Upgrade: h2c``) with a correct 426 ``Upgrade: h2c``.

    With ``prior_knowledge`` it speaks HTTP/2 after the preface. Without, it
    is an HTTP/1.1-only server that only claims to require h2c: it answers
    the preface's request line ``PRI * HTTP/2.0`` with 400, as nginx does,
    and closes the connection unless ``keep_alive``.
    """

    def answer(request: Request) -> bytes:
        if request.method == "PRI":
            return response(400, "Bad Request", [], close=not keep_alive)
        return refusal("h2c", "This endpoint requires cleartext HTTP/2 (h2c).")

    return http1_server(
        answer, prior_knowledge=serve_h2_prior_knowledge if prior_knowledge else None
    )


@contextlib.contextmanager
def raw_server(behaviour: Behaviour) -> Iterator[str]:
    """Serve ``behaviour`` on 127.0.0.1; yields the http:// base URL."""
    with hostile_server(behaviour) as port:
        yield f"http://127.0.0.1:{port}"
