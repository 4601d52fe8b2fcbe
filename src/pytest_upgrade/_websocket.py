"""The WebSocket probes: an RFC 6455 opening handshake made by the websockets library.

The library performs the handshake as a real client does and validates it;
a subclass of its connection records the request and the response it saw,
so that the checks judge the raw 101 (or whatever came instead) themselves.
The connection is closed right after the handshake: the test body gets a
fresh one of its own (``upgrade.websocket``).
"""

from __future__ import annotations

import contextlib
import inspect
import socket
import ssl
import time
from collections.abc import Sequence
from typing import Any

from websockets.exceptions import InvalidHandshake, InvalidMessage, InvalidStatus
from websockets.http11 import Request as WsRequest
from websockets.http11 import Response as WsResponse
from websockets.sync.client import ClientConnection, connect

from ._model import Exchange, FailureKind, ProbeFailure, Response, Transport
from ._probes import USER_AGENT, ClientTrust, Endpoint

__all__ = ["LEGACY_CONNECT", "websocket_handshake", "websocket_uri"]

# websockets 16+ warns unless connect() is used as a context manager or told
# legacy=True; older releases have no such parameter.
LEGACY_CONNECT: dict[str, Any] = (
    {"legacy": True} if "legacy" in inspect.signature(connect).parameters else {}
)


def websocket_uri(endpoint: Endpoint, path: str) -> str:
    scheme = "wss" if endpoint.scheme == "https" else "ws"
    return f"{scheme}://{endpoint.authority}{endpoint.target(path)}"


def _response(response: WsResponse) -> Response:
    return Response(
        status=response.status_code,
        http_version="1.1",
        headers=tuple((name.lower(), value) for name, value in response.headers.raw_items()),
        body=bytes(response.body or b""),
        reason=response.reason_phrase,
    )


def _transport(sock: socket.socket | None, scheme: str) -> Transport:
    if isinstance(sock, ssl.SSLSocket):
        with contextlib.suppress(OSError, ValueError):
            return Transport(
                scheme=scheme, tls_version=sock.version(), alpn=sock.selected_alpn_protocol()
            )
    return Transport(scheme=scheme)


def websocket_handshake(
    endpoint: Endpoint,
    *,
    role: str,
    path: str,
    headers: Sequence[tuple[str, str]] = (),
    trust: ClientTrust,
    timeout: float,
) -> Exchange:
    """Open a WebSocket connection to ``path`` and close it; record what was exchanged."""
    uri = websocket_uri(endpoint, path)
    over = "TLS" if endpoint.scheme == "https" else "cleartext"
    offered = f"WebSocket handshake (RFC 6455, version 13) over {over}"
    seen: dict[str, Any] = {}

    class _Recording(ClientConnection):
        # Records what the handshake saw, whether or not it succeeds.
        def handshake(self, *args: Any, **kwargs: Any) -> None:
            try:
                super().handshake(*args, **kwargs)
            except InvalidStatus as exc:
                # The library follows redirects; a probe never leaves the
                # target: a redirect is the answer, like any other status.
                raise _Answered(exc.response) from None
            finally:
                seen["request"] = self.request
                seen["response"] = self.response
                seen["transport"] = _transport(self.socket, endpoint.scheme)

    context = trust.context(("http/1.1",)) if endpoint.scheme == "https" else None
    start = time.perf_counter()
    failure: ProbeFailure | None = None
    response: Response | None = None
    try:
        connection = connect(
            uri,
            ssl=context,
            proxy=None,
            open_timeout=timeout,
            close_timeout=min(1.0, timeout),
            additional_headers=list(headers),
            user_agent_header=USER_AGENT,
            compression=None,
            create_connection=_Recording,
            **LEGACY_CONNECT,
        )
    except _Answered as exc:
        # A complete answer other than 101: that is the finding, not a failure.
        response = _response(exc.response)
    except InvalidMessage as exc:
        failure = ProbeFailure(FailureKind.PROTOCOL, f"invalid handshake response: {_cause(exc)}")
    except InvalidHandshake as exc:
        # A response the library refused (a 101 with a wrong
        # Sec-WebSocket-Accept, say): recorded with the refusal, and judged.
        failure = ProbeFailure(FailureKind.PROTOCOL, f"the client refused the handshake: {exc}")
    except TimeoutError:
        failure = ProbeFailure(
            FailureKind.TIMEOUT, f"WebSocket handshake: no answer within {timeout:g} s"
        )
    except ssl.SSLCertVerificationError as exc:
        failure = ProbeFailure(
            FailureKind.CERTIFICATE,
            f"certificate verify failed: {exc.verify_message}"
            " (trust a private CA with --upgrade-ca=PEM)",
        )
    except ssl.SSLError as exc:
        failure = ProbeFailure(
            FailureKind.TLS_REFUSED, f"TLS handshake failed: {exc.reason or exc}"
        )
    except (ConnectionRefusedError, socket.gaierror) as exc:
        failure = ProbeFailure(FailureKind.UNREACHABLE, f"connect to {uri}: {exc.strerror or exc}")
    except (EOFError, ConnectionError) as exc:
        failure = ProbeFailure(
            FailureKind.CLOSED, f"the connection closed during the handshake: {exc}"
        )
    except OSError as exc:
        failure = ProbeFailure(FailureKind.UNREACHABLE, f"connect to {uri}: {exc.strerror or exc}")
    else:
        connection.close()
    if response is None and seen.get("response") is not None:
        response = _response(seen["response"])
    request: WsRequest | None = seen.get("request")
    request_headers = tuple(request.headers.raw_items()) if request is not None else tuple(headers)
    return Exchange(
        role=role,
        url=uri,
        method="GET",
        offered=offered,
        request_headers=request_headers,
        transport=seen.get("transport"),
        response=response,
        failure=failure,
        elapsed=time.perf_counter() - start,
    )


class _Answered(Exception):
    """A complete non-101 answer, kept from the library's redirect handling."""

    def __init__(self, response: WsResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__
    return f"{exc}: {cause}" if cause is not None else str(exc)
