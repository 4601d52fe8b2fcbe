"""An egress proxy: a TCP connection through an HTTP CONNECT tunnel (RFC 9110 §9.3.6).

:class:`TunnelDialer` is a :data:`~.spec.Dialer`: ``Target.spec_for`` puts it in
``ConnectionSpec.dialer``, and every TCP probe (TLS ones, the TLS-version
handshakes, cleartext HTTP/1.x, h2c, RFC 2817, WebSocket) connects through it
without knowing. It connects to the proxy, asks for a tunnel to the spec's peer
with ``CONNECT host:port HTTP/1.1`` (with ``Proxy-Authorization: Basic``, RFC
7617, when the proxy URL carries a user), reads the proxy's answer head with h11
within the probe's deadline, and on a 2xx hands the socket over: from then on
every byte is the origin's own, so what is judged is still the target.

Whatever goes wrong before that is the proxy's failure, never the target's: a
:class:`~.connection.ProbeError` of kind ``FailureKind.PROXY`` that names the
proxy (``http://HOST:PORT``) and never its credentials, so the test errors
(``ProbeFailure.is_error``) instead of being judged.

QUIC cannot go through a CONNECT tunnel (it is UDP): :func:`tunnel_proxy` tells
the HTTP/3 probes that a spec goes through one, and they are skipped.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

import h11

from .._model import FailureKind
from .connection import USER_AGENT, ProbeError
from .spec import HEADER_LIMIT, ConnectionSpec, Socket

__all__ = ["DEFAULT_PROXY_PORT", "Proxy", "TunnelDialer", "parse_proxy_url", "tunnel_proxy"]

DEFAULT_PROXY_PORT = 1080  # curl's, for a proxy URL without a port
_RECV_SIZE = 65536


@dataclass(frozen=True)
class Proxy:
    """An http:// proxy: its host and port, and the Basic credentials of its URL's userinfo.

    Neither ``repr`` nor any message shows the credentials: :attr:`url` is the
    proxy without them.
    """

    host: str
    port: int
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    @property
    def authority(self) -> str:
        """``HOST:PORT`` (an IPv6 host in brackets), as ``openssl s_client -proxy`` takes it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        """``http://HOST:PORT``: the proxy as every report names it (no credentials)."""
        return f"http://{self.authority}"

    @property
    def has_credentials(self) -> bool:
        return self.user is not None

    def client_url(self) -> str:
        """The URL with its credentials, percent-encoded, for a client library (httpx,
        websockets) to authenticate with: handed over, never shown."""
        if self.user is None:
            return self.url
        userinfo = quote(self.user, safe="") + ":" + quote(self.password or "", safe="")
        return f"http://{userinfo}@{self.authority}"

    def authorization(self) -> str | None:
        """The ``Proxy-Authorization`` value (RFC 9110 §11.7.2), Basic (RFC 7617 §2), or None."""
        if self.user is None:
            return None
        # RFC 7617 §2.1: user-id and password as UTF-8 when no charset is announced.
        pair = f"{self.user}:{self.password or ''}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


def parse_proxy_url(text: str) -> Proxy:
    """The proxy a URL names (``http://[USER[:PASSWORD]@]HOST[:PORT]``; without a scheme,
    http://, as curl takes it). ValueError for another scheme (https://, socks5://, …),
    which this client cannot speak, or a malformed URL; the message never repeats
    the userinfo."""
    text = text.strip()
    shown = shown_proxy_url(text)
    if "://" not in text:
        text = "http://" + text
    scheme = text.split("://", 1)[0].lower()
    if scheme != "http":
        kind = "SOCKS proxies" if scheme.startswith("socks") else f"{scheme}:// proxies"
        raise ValueError(
            f"{shown}: {kind} are not supported; give an http:// proxy URL"
            " (the probes ask it for a CONNECT tunnel, RFC 9110 §9.3.6)"
        )
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{shown}: not a proxy URL ({_without_userinfo(str(exc))})") from None
    if not parts.hostname:
        raise ValueError(f"{shown}: no host in the proxy URL")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{shown}: a proxy URL is http://HOST:PORT, without a path or query")
    user = None if parts.username is None else unquote(parts.username)
    password = None if parts.password is None else unquote(parts.password)
    if user is not None and ":" in user:
        raise ValueError(f"{shown}: the proxy user name may not contain ':' (RFC 7617 §2)")
    return Proxy(parts.hostname, port or DEFAULT_PROXY_PORT, user, password)


def shown_proxy_url(text: str) -> str:
    """A proxy URL as a message may repeat it: its userinfo, if any, as ``***``."""
    return repr(_without_userinfo(text.strip()))


def _without_userinfo(text: str) -> str:
    scheme, sep, rest = text.rpartition("://")
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rsplit("@", 1)[1]
    return f"{scheme}{sep}{authority}{slash}{path}"


class _Tunnel:
    """A tunnel's socket that first replays what the proxy sent after its answer head.

    A proxy may pass on the origin's first bytes in the same segment as its
    ``200`` (a server that speaks first, or a fast TLS answer); they are the
    origin's, so the probe reads them before anything else.
    """

    def __init__(self, sock: socket.socket, pending: bytes) -> None:
        self._sock = sock
        self._pending = pending

    def recv(self, size: int, /) -> bytes:
        if self._pending:
            data, self._pending = self._pending[:size], self._pending[size:]
            return data
        return self._sock.recv(size)

    def settimeout(self, value: float | None, /) -> None:
        self._sock.settimeout(value)

    def setblocking(self, flag: bool, /) -> None:
        self._sock.setblocking(flag)

    def setsockopt(self, level: int, option: int, value: int, /) -> None:
        self._sock.setsockopt(level, option, value)

    def sendall(self, data: bytes, /) -> None:
        self._sock.sendall(data)

    def send(self, data: bytes, /) -> int:
        return self._sock.send(data)

    def close(self) -> None:
        self._sock.close()


@dataclass(frozen=True)
class TunnelDialer:
    """A :data:`~.spec.Dialer` that connects through ``proxy`` with HTTP CONNECT.

    ``head_limit`` bounds the proxy's answer head: a longer one is refused.
    """

    proxy: Proxy
    head_limit: int = HEADER_LIMIT

    def __call__(self, peer: tuple[str, int], timeout: float) -> Socket:
        """A tunnel to ``peer`` within ``timeout`` seconds, or a ``ProbeError`` (PROXY)."""
        end = time.monotonic() + timeout
        sock = self._connect(timeout)
        try:
            pending = self._handshake(sock, peer, end, timeout)
        except BaseException:
            sock.close()
            raise
        return _Tunnel(sock, pending) if pending else sock

    def _fail(self, what: str) -> ProbeError:
        return ProbeError(FailureKind.PROXY, f"proxy {self.proxy.url}: {what}")

    def _connect(self, timeout: float) -> socket.socket:
        where = (self.proxy.host, self.proxy.port)
        try:
            return socket.create_connection(where, timeout=timeout)
        except socket.gaierror as exc:
            raise self._fail(f"cannot resolve {self.proxy.host!r}: {exc.strerror}") from None
        except TimeoutError:
            raise self._fail(f"no answer to connect within {round(timeout, 1):g} s") from None
        except OSError as exc:
            raise self._fail(f"cannot connect: {exc.strerror or type(exc).__name__}") from None

    def _handshake(
        self, sock: socket.socket, peer: tuple[str, int], end: float, timeout: float
    ) -> bytes:
        """Ask for the tunnel and read the answer head; the bytes after it (the origin's)."""
        host, port = peer
        # RFC 9110 §9.3.6: the request-target is authority-form (RFC 9112 §3.2.3),
        # Host the same authority; an IPv6 address in brackets (RFC 3986 §3.2.2).
        authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        headers = [("Host", authority), ("User-Agent", USER_AGENT)]
        credentials = self.proxy.authorization()
        if credentials is not None:
            headers.append(("Proxy-Authorization", credentials))
        conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=self.head_limit)
        request = h11.Request(method="CONNECT", target=authority, headers=headers)
        wire = (conn.send(request) or b"") + (conn.send(h11.EndOfMessage()) or b"")
        try:
            sock.settimeout(max(end - time.monotonic(), 0.001))
            sock.sendall(wire)
        except TimeoutError:
            raise self._fail("it stopped reading the CONNECT request") from None
        except OSError as exc:
            raise self._fail(f"sending CONNECT: {exc.strerror or type(exc).__name__}") from None
        response, overflow = self._read_head(sock, conn, end, timeout)
        if not 200 <= response.status_code < 300:
            raise self._fail(self._refusal(response, authority))
        data, _closed = conn.trailing_data
        return bytes(data) + overflow

    def _read_head(
        self, sock: socket.socket, conn: h11.Connection, end: float, timeout: float
    ) -> tuple[h11.Response, bytes]:
        """The final answer head, and the bytes read past what h11 was given.

        h11 is fed at most ``head_limit`` bytes before the head is complete (its
        own bound holds only for a head arriving in pieces); what came after is
        kept, unread, for the tunnel.
        """
        fed = 0
        overflow = b""
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                raise self._fail(f"its answer to CONNECT is not HTTP ({exc})") from None
            if isinstance(event, h11.Response):
                return event, overflow
            if event is h11.NEED_DATA:
                if fed >= self.head_limit:
                    raise self._fail(
                        f"its answer to CONNECT has a head over {self.head_limit} bytes"
                    )
                data = overflow or self._recv(sock, end, timeout)
                if not data:
                    with contextlib.suppress(h11.RemoteProtocolError):
                        conn.receive_data(b"")
                    raise self._fail("it closed the connection before answering CONNECT")
                room = self.head_limit - fed
                overflow = data[room:]
                conn.receive_data(data[:room])
                fed += min(len(data), room)
            # An informational (1xx) answer: the final one follows.

    def _recv(self, sock: socket.socket, end: float, timeout: float) -> bytes:
        left = end - time.monotonic()
        if left <= 0:
            raise self._fail(f"no answer to CONNECT within {round(timeout, 1):g} s")
        try:
            sock.settimeout(left)
            return sock.recv(_RECV_SIZE)
        except TimeoutError:
            raise self._fail(f"no answer to CONNECT within {round(timeout, 1):g} s") from None
        except OSError as exc:
            reason = "the connection was reset" if isinstance(exc, ConnectionResetError) else None
            raise self._fail(
                f"reading its answer to CONNECT: {reason or exc.strerror or type(exc).__name__}"
            ) from None

    def _refusal(self, response: h11.Response, authority: str) -> str:
        status = f"{response.status_code} {response.reason.decode('latin-1')}".strip()
        said = f"refused the tunnel to {authority} ({status})"
        if response.status_code == 407:
            # RFC 9110 §15.5.8: the proxy wants credentials, or other ones.
            if self.proxy.has_credentials:
                return f"{said}: the proxy credentials given were refused (wrong user or password?)"
            return (
                f"{said}: the proxy requires credentials and none were given"
                " (http://USER:PASSWORD@HOST:PORT; percent-encode reserved characters)"
            )
        if response.status_code == 403:
            return f"{said}: the proxy's policy forbids a tunnel to this host or port"
        if response.status_code in (502, 503, 504):
            # RFC 9110 §15.6.3-5: a gateway's answer about the next hop, here the target.
            return f"{said}: the proxy could not reach the target (up, and reachable from it?)"
        return said


def tunnel_proxy(spec: ConnectionSpec) -> Proxy | None:
    """The proxy ``spec``'s connections go through, or None (a direct connection)."""
    dialer = spec.dialer
    return dialer.proxy if isinstance(dialer, TunnelDialer) else None
