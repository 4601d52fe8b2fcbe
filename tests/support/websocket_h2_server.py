"""A TLS WebSocket endpoint that speaks HTTP/2 too, for the RFC 8441 failure modes.

hypercorn always enables the extended CONNECT protocol and routes it like the
HTTP/1.1 handshake, so it cannot show a server that advertises WebSocket over
HTTP/2 and then refuses it. This one can. With ALPN ``http/1.1`` it is
``raw_servers.websocket_endpoint`` (a correct 426 and 101); with ``h2`` it
behaves as ``mode`` says:

- ``"accept"``: SETTINGS_ENABLE_CONNECT_PROTOCOL = 1, 200 to the extended
  CONNECT, and the websockets library's server side answers the Ping
- ``"no-setting"``: HTTP/2 without the setting (as nginx 1.22 or Caddy 2.6)
- ``"refuse-404"``: advertises the setting, answers the CONNECT with 404
- ``"reset"``: advertises the setting, resets the stream (RST_STREAM)
- ``"close-frame"``: 200, then a WebSocket Close frame instead of a Pong
- ``"close-1000"``: 200, then a clean Close (1000), as a route that does
  ``accept()`` then ``close(1000)``
- ``"wrong-subprotocol"``: 200 naming ``sec-websocket-protocol: mqtt``, offered or not
- ``"end-stream"``: 200, then the end of the stream instead of a Pong
- ``"goaway"``: advertises the setting, answers the CONNECT with GOAWAY
- ``"speaks-http1"``: selects h2 by ALPN, then answers in HTTP/1.1

Serve it with ``hostile.zoo_server(websocket_h2_endpoint(mode), tls=...)``.
"""

from __future__ import annotations

import contextlib
from typing import Any

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings
from websockets.frames import CloseCode
from websockets.protocol import Protocol, Side

from support import raw_servers
from support.hostile import Behaviour

MODES = (
    "accept",
    "no-setting",
    "refuse-404",
    "reset",
    "close-frame",
    "close-1000",
    "wrong-subprotocol",
    "end-stream",
    "goaway",
    "speaks-http1",
)


def websocket_h2_endpoint(mode: str) -> Behaviour:
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; one of {MODES}")
    http1 = raw_servers.websocket_endpoint(
        version_answer=raw_servers.response(400, "Bad Request", [("Sec-WebSocket-Version", "13")])
    )

    def behaviour(conn: Any) -> None:
        if conn.sock.selected_alpn_protocol() == "h2":
            _serve_h2(conn, mode)
        else:
            http1(conn)

    return behaviour


def _serve_h2(conn: Any, mode: str) -> None:
    if mode == "speaks-http1":
        conn.sendall(raw_servers.response(400, "Bad Request", []))
        return
    config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
    server = h2.connection.H2Connection(config=config)
    server.initiate_connection()
    if mode != "no-setting":
        server.update_settings({h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL: 1})
    conn.sendall(server.data_to_send())
    websockets: dict[int, Protocol] = {}
    conn.settimeout(5)
    while data := conn.recv(65536):
        for event in server.receive_data(data):
            if isinstance(event, h2.events.RequestReceived):
                _answer(server, event.stream_id, mode, websockets)
            elif isinstance(event, h2.events.DataReceived) and event.stream_id in websockets:
                server.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                websocket = websockets[event.stream_id]
                websocket.receive_data(event.data)
                websocket.events_received()  # the library queues the Pong itself
                with contextlib.suppress(h2.exceptions.StreamClosedError):
                    server.send_data(event.stream_id, b"".join(websocket.data_to_send()))
        conn.sendall(server.data_to_send())


def _answer(
    server: h2.connection.H2Connection, stream_id: int, mode: str, websockets: dict[int, Protocol]
) -> None:
    if mode == "reset":
        server.reset_stream(stream_id, h2.errors.ErrorCodes.REFUSED_STREAM)
        return
    if mode == "goaway":
        server.close_connection(h2.errors.ErrorCodes.REFUSED_STREAM)
        return
    if mode == "end-stream":
        server.send_headers(stream_id, [(":status", "200")], end_stream=True)
        return
    if mode == "refuse-404":
        server.send_headers(stream_id, [(":status", "404")], end_stream=True)
        return
    if mode == "wrong-subprotocol":
        server.send_headers(stream_id, [(":status", "200"), ("sec-websocket-protocol", "mqtt")])
    else:
        server.send_headers(stream_id, [(":status", "200")])
    websocket = Protocol(Side.SERVER)
    if mode in ("close-frame", "close-1000"):
        if mode == "close-1000":
            websocket.send_close(CloseCode.NORMAL_CLOSURE)
        else:
            websocket.send_close(CloseCode.POLICY_VIOLATION, "not here")
        server.send_data(stream_id, b"".join(websocket.data_to_send()))
        return
    websockets[stream_id] = websocket
