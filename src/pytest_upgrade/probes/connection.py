"""A bounded connection: TCP, optionally TLS over memory BIOs, under one deadline.

Every read, the TLS handshake included, is bounded by the probe's deadline: a
target that drips bytes cannot stretch a probe past its timeout. What went
wrong is a :class:`ProbeError`, which :func:`.exchange.recording` turns into
the exchange's failure.

Probes connect only where their :class:`~.spec.ConnectionSpec` says.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._model import FailureKind, Transport
from .client_cert import (
    CLIENT_CERTIFICATE_ALERTS,
    certificate_requested,
    hung_up_on,
    refusal,
)
from .endpoint import given_cafile, offered_certificate
from .reuse import ConnectionPool, lent
from .spec import ConnectionSpec, Socket
from .tls_errors import TlsErrorKind, alert_name, classify_tls_error, ssl_reason

if TYPE_CHECKING:
    import h2.connection

__all__ = [
    "USER_AGENT",
    "Connection",
    "Deadline",
    "ProbeError",
    "decode_field",
    "open_connection",
]

USER_AGENT = "pytest-upgrade/0.1"
_RECV_SIZE = 65536


class ProbeError(Exception):
    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class Deadline:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.end = time.monotonic() + timeout

    def remaining(self, what: str) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise ProbeError(FailureKind.TIMEOUT, f"{what}: no answer within {self.timeout:g} s")
        return left


class Connection:
    """A TCP connection, optionally with TLS over memory BIOs, under one deadline."""

    def __init__(self, sock: Socket, deadline: Deadline) -> None:
        self.sock = sock
        self.deadline = deadline
        self.tls: ssl.SSLObject | None = None
        self._offered: str | None = None  # the client certificate the context offers
        self._answered = False  # application data arrived over TLS
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self.received = 0
        self.reusable = False  # its last exchange left it fit to carry another request
        self.reused = False  # it carries a request after an earlier one
        self.http2: h2.connection.H2Connection | None = None  # once it speaks HTTP/2
        self._pool: ConnectionPool[Connection] | None = None  # the pool counting it, if any
        self._peer = ("", 0)
        self._closed = False

    @classmethod
    def open(cls, spec: ConnectionSpec, deadline: Deadline) -> Connection:
        """A TCP connection where ``spec`` says, within ``deadline``; counted by the
        probe's connection pool, when it has one (:mod:`.reuse`)."""
        pool = lent()
        host, port = spec.peer
        peer = (host.lower(), port)
        if pool is not None:
            pool.opening(peer)
        try:
            connection = cls(cls._dial(spec, deadline), deadline)
        except BaseException:
            if pool is not None:
                pool.closed(peer)
            raise
        connection._pool, connection._peer = pool, peer
        return connection

    @staticmethod
    def _dial(spec: ConnectionSpec, deadline: Deadline) -> Socket:
        host, port = spec.peer
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        try:
            sock = spec.dial(deadline.remaining(f"connect to {where}"))
        except socket.gaierror as exc:
            raise ProbeError(
                FailureKind.UNREACHABLE, f"cannot resolve {host!r}: {exc.strerror}"
            ) from None
        except TimeoutError:
            raise ProbeError(
                FailureKind.UNREACHABLE,
                f"connect to {where}: no answer within {deadline.timeout:g} s",
            ) from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise ProbeError(FailureKind.UNREACHABLE, f"connect to {where}: {reason}") from None
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def renew(self, deadline: Deadline) -> None:
        """Take this kept-alive connection up again for another request, within ``deadline``."""
        self.deadline = deadline
        self.reused = True
        self.reusable = False

    def quiet(self) -> bool:
        """Whether nothing has arrived on this idle connection: a close, a reset, a GOAWAY
        or a late byte each make it readable, and unfit to carry another request."""
        fileno = getattr(self.sock, "fileno", None)
        if fileno is None:
            return False
        try:
            readable, _, _ = select.select([fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._say_goodbye()
        finally:
            if self._pool is not None:
                self._pool.closed(self._peer)

    def _say_goodbye(self) -> None:
        if self.tls is not None:
            # Say goodbye (close_notify, RFC 8446 §6.1) without waiting for the
            # answer: a server that sees the socket just vanish may keep the
            # connection's buffers until its keep-alive timeout.
            with contextlib.suppress(ssl.SSLError, ValueError):
                self.tls.unwrap()
            pending = self._outgoing.read()
            if pending:
                with contextlib.suppress(OSError):
                    self.sock.setblocking(False)
                    self.sock.send(pending)
        self.sock.close()

    # -- raw socket I/O, bounded by the deadline ---------------------------
    def send_raw(self, data: bytes) -> None:
        try:
            self.sock.settimeout(self.deadline.remaining("sending"))
            self.sock.sendall(data)
        except TimeoutError:
            raise ProbeError(FailureKind.TIMEOUT, "sending: the peer stopped reading") from None
        except OSError as exc:
            raise ProbeError(FailureKind.CLOSED, f"sending: {_os_reason(exc)}") from None

    def recv_raw(self, what: str) -> bytes:
        try:
            self.sock.settimeout(self.deadline.remaining(what))
            data = self.sock.recv(_RECV_SIZE)
        except TimeoutError:
            raise ProbeError(
                FailureKind.TIMEOUT, f"{what}: no answer within {self.deadline.timeout:g} s"
            ) from None
        except OSError as exc:
            raise ProbeError(FailureKind.CLOSED, f"{what}: {_os_reason(exc)}") from None
        self.received += len(data)
        return data

    # -- TLS ----------------------------------------------------------------
    def start_tls(self, context: ssl.SSLContext, server_hostname: str) -> None:
        self.tls = context.wrap_bio(self._incoming, self._outgoing, server_hostname=server_hostname)
        self._offered = offered_certificate(context)
        while True:
            try:
                self.tls.do_handshake()
            except ssl.SSLWantReadError:
                self._flush_tls()
                try:
                    data = self.recv_raw("TLS handshake")
                except ProbeError as exc:
                    if exc.kind is not FailureKind.CLOSED:
                        raise
                    # A reset during the handshake is a refusal, like a close.
                    raise ProbeError(
                        FailureKind.TLS_REFUSED, f"during the TLS handshake, {exc.message}"
                    ) from None
                if not data:
                    raise ProbeError(
                        FailureKind.TLS_REFUSED,
                        "the server closed the connection during the TLS handshake",
                    ) from None
                self._incoming.write(data)
                continue
            except ssl.SSLCertVerificationError as exc:
                advice = _certificate_advice(exc, given_cafile(context), server_hostname)
                raise ProbeError(
                    FailureKind.CERTIFICATE,
                    f"certificate verify failed: {exc.verify_message} ({advice})",
                ) from None
            except ssl.SSLError as exc:
                self._flush_tls(quietly=True)
                raise self._client_certificate_error(exc) or _handshake_error(exc) from None
            self._flush_tls()
            return

    def _client_certificate_error(self, exc: ssl.SSLError) -> ProbeError | None:
        """The failure when the server's alert is about the client's certificate: one
        of the alerts only about it, or ``handshake_failure`` after the server asked
        for a certificate (TLS 1.2 servers end the handshake so when none is given)."""
        alert = alert_name(exc)
        if alert is None or self.tls is None:
            return None
        asked = alert == "handshake_failure" and certificate_requested(self.tls)
        if alert not in CLIENT_CERTIFICATE_ALERTS and not asked:
            return None
        return ProbeError(FailureKind.CLIENT_CERTIFICATE, refusal(alert, self._offered))

    def _alert_after_close(self, failure: ProbeError) -> ProbeError:
        """``failure`` (a send that found the connection closed or reset), unless the
        server's last words were an alert about the client's certificate: a TLS 1.3
        server sends it after the client's Finished, then closes while the request is
        on its way. Reads what arrived, without waiting."""
        if self.tls is None or failure.kind is not FailureKind.CLOSED:
            return failure
        with contextlib.suppress(OSError):
            self.sock.setblocking(False)
            data = self.sock.recv(_RECV_SIZE)
            self._incoming.write(data)
        try:
            self.tls.read(_RECV_SIZE)
        except ssl.SSLError as exc:
            return self._client_certificate_error(exc) or self._hung_up(failure)
        return self._hung_up(failure)

    def _hung_up(self, failure: ProbeError) -> ProbeError:
        """``failure`` (the server closed or reset the connection), unless it asked for a
        client certificate, none was given, and it hung up before answering anything:
        a server that ends the handshake so without an alert (asyncio's)."""
        if (
            self.tls is None
            or self._answered
            or self._offered is not None
            or not certificate_requested(self.tls)
        ):
            return failure
        return ProbeError(FailureKind.CLIENT_CERTIFICATE, hung_up_on())

    def _flush_tls(self, *, quietly: bool = False) -> None:
        pending = self._outgoing.read()
        if pending:
            try:
                self.send_raw(pending)
            except ProbeError:
                if not quietly:
                    raise

    # -- application data ---------------------------------------------------
    def send(self, data: bytes) -> None:
        if self.tls is None:
            self.send_raw(data)
            return
        self.tls.write(data)
        try:
            self._flush_tls()
        except ProbeError as exc:
            raise self._alert_after_close(exc) from None

    def recv(self, what: str) -> bytes:
        """Up to 64 KiB of application data; b"" when the peer closed."""
        if self.tls is None:
            return self.recv_raw(what)
        closed = ProbeError(FailureKind.CLOSED, f"{what}: the server closed the connection")
        while True:
            try:
                data = self.tls.read(_RECV_SIZE)
                self._answered = self._answered or bool(data)
                return data
            except ssl.SSLWantReadError:
                try:
                    data = self.recv_raw(what)
                except ProbeError as exc:
                    raise self._hung_up(exc) if exc.kind is FailureKind.CLOSED else exc from None
                if not data:
                    self._incoming.write_eof()
                    with contextlib.suppress(ssl.SSLError):
                        return self.tls.read(_RECV_SIZE)
                    refused = self._hung_up(closed)
                    if refused is not closed:
                        raise refused from None
                    return b""
                self._incoming.write(data)
            except ssl.SSLZeroReturnError:
                refused = self._hung_up(closed)
                if refused is not closed:
                    raise refused from None
                return b""
            except ssl.SSLError as exc:
                alert = self._client_certificate_error(exc)
                if alert is not None:
                    raise alert from None
                reason = ssl_reason(exc)
                raise ProbeError(FailureKind.PROTOCOL, f"{what}: TLS error {reason}") from None

    def transport(self, scheme: str) -> Transport:
        if self.tls is None:
            return Transport(scheme=scheme, reused=self.reused)
        return Transport(
            scheme=scheme,
            tls_version=self.tls.version(),
            alpn=self.tls.selected_alpn_protocol(),
            certificate_requested=certificate_requested(self.tls),
            reused=self.reused,
        )


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, ConnectionResetError):
        return "the connection was reset by the peer"
    if isinstance(exc, BrokenPipeError):
        return "the peer closed the connection"
    return exc.strerror or type(exc).__name__


# OpenSSL's X509_V_ERR codes whose cause no CA file changes.
_NOT_YET_VALID, _EXPIRED = 9, 10
_NAME_MISMATCH = frozenset({62, 64})  # X509_V_ERR_HOSTNAME_MISMATCH, _IP_ADDRESS_MISMATCH


def _certificate_advice(exc: ssl.SSLCertVerificationError, cafile: str | None, host: str) -> str:
    """What to do about a certificate that did not verify, for its cause (RFC 5280 §6.1)."""
    if exc.verify_code == _EXPIRED:
        return "renew the server's certificate: no CA makes an expired one valid"
    if exc.verify_code == _NOT_YET_VALID:
        return "its validity starts later: check the server's and this machine's clocks"
    if exc.verify_code in _NAME_MISMATCH:
        return f"the certificate is not issued for {host}: test the name it names"
    if cafile is not None:
        return f"the CA file given, {cafile}, does not issue it: give the CA that does"
    return "trust a private CA with --upgrade-ca=PEM"


def _handshake_error(exc: ssl.SSLError) -> ProbeError:
    """A request probe's failed handshake: refused by the server, or not TLS at all."""
    error = classify_tls_error(exc)
    if error.kind is TlsErrorKind.ALERT:
        return ProbeError(
            FailureKind.TLS_REFUSED, f"the server refused the TLS handshake: alert {error.detail}"
        )
    if error.kind is TlsErrorKind.NOT_TLS:
        return ProbeError(
            FailureKind.PROTOCOL,
            f"the server did not answer with TLS ({error.detail}): is this a cleartext port?",
        )
    if error.kind is TlsErrorKind.CLOSED:
        return ProbeError(
            FailureKind.TLS_REFUSED, "the server closed the connection during the TLS handshake"
        )
    if error.kind is TlsErrorKind.VERSION:
        return ProbeError(FailureKind.TLS_REFUSED, "the server refused the TLS version offered")
    return ProbeError(FailureKind.TLS_REFUSED, f"TLS handshake failed: {error.detail}")


def open_connection(
    spec: ConnectionSpec,
    deadline: Deadline,
    *,
    alpn: Sequence[str] = (),
    minimum: str | None = None,
) -> Connection:
    """A connection where ``spec`` says; over https, its TLS handshake done, offering
    ``alpn`` and ``minimum`` (the lowest TLS version) and every later one."""
    connection = Connection.open(spec, deadline)
    if spec.https:
        try:
            connection.start_tls(spec.trust.context(alpn, minimum=minimum), spec.server_name)
        except BaseException:
            connection.close()
            raise
    return connection


def decode_field(value: bytes) -> str:
    # Field values are octets; obs-text (RFC 9110 §5.5) survives as Latin-1.
    return value.decode("latin-1")
