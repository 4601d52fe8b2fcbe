"""The bundled server over real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gc
import json
import socket
import ssl
import stat
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pytest_upgrade.server.bundled import (
    _KEEP_ALIVE_TIMEOUT,
    AppError,
    BundledCA,
    ServerStartError,
    UpgradeServer,
)

Scope = dict[str, Any]
Receive = Any
Send = Any


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers with what it saw; /boom raises, /slow never answers."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["path"] == "/boom":
        raise ValueError("boom")
    if scope["path"] == "/slow":
        await asyncio.sleep(60)
    body = json.dumps({"http_version": scope["http_version"], "scheme": scope["scheme"]})
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body.encode()})


def _server_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("pytest-upgrade-server")}


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _assert_refused(url: str) -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", _port(url)), timeout=2).close()


def _raw_http11_get(url: str, path: str) -> bytes:
    """The raw response bytes, read to EOF, whether complete or not."""
    with socket.create_connection(("127.0.0.1", _port(url)), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture(scope="module")
def ca() -> Iterator[BundledCA]:
    bundled = BundledCA()
    yield bundled
    bundled.close()


@pytest.fixture(scope="module")
def server(ca: BundledCA) -> Iterator[UpgradeServer]:
    with UpgradeServer(echo_app, ca=ca) as running:
        yield running


def test_https_negotiates_http2_through_alpn(server: UpgradeServer) -> None:
    with httpx.Client(verify=server.ssl_context(), trust_env=False, http2=True) as client:
        response = client.get(server.https_url + "/")
    assert response.status_code == 200
    assert response.http_version == "HTTP/2"
    assert response.json() == {"http_version": "2", "scheme": "https"}


def test_https_answers_http11_when_the_client_offers_only_http11(server: UpgradeServer) -> None:
    with httpx.Client(verify=server.ssl_context(), trust_env=False) as client:
        response = client.get(server.https_url + "/")
    assert response.http_version == "HTTP/1.1"
    assert response.json() == {"http_version": "1.1", "scheme": "https"}


def test_cleartext_listener_answers_http11(server: UpgradeServer) -> None:
    with httpx.Client(trust_env=False) as client:
        response = client.get(server.http_url + "/")
    assert response.http_version == "HTTP/1.1"
    assert response.json() == {"http_version": "1.1", "scheme": "http"}


def _live_connections() -> int:
    """hypercorn connection handlers still alive in this process."""
    from hypercorn.asyncio.tcp_server import TCPServer

    gc.collect()
    return sum(isinstance(o, TCPServer) for o in gc.get_objects())


def test_connections_the_client_closed_are_released_before_the_keep_alive_timer(
    ca: BundledCA,
) -> None:
    # hypercorn 0.18 keeps a closed connection until keep_alive_timeout (5 s)
    # fires; the bundled server ends it as soon as the client has gone.
    with UpgradeServer(echo_app, ca=ca) as running:
        for _ in range(10):
            with httpx.Client(verify=running.ssl_context(), trust_env=False, http2=True) as h2:
                assert h2.get(running.https_url + "/").http_version == "HTTP/2"
            with socket.create_connection(("127.0.0.1", _port(running.http_url))) as plain:
                plain.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                assert plain.recv(65536).startswith(b"HTTP/1.1 200")
            with (
                socket.create_connection(("127.0.0.1", _port(running.https_url))) as raw,
                running.ssl_context().wrap_socket(raw, server_hostname="127.0.0.1") as tls,
            ):
                tls.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                assert tls.recv(65536).startswith(b"HTTP/1.1 200")
        deadline = time.monotonic() + _KEEP_ALIVE_TIMEOUT / 2
        while _live_connections() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _live_connections() == 0


def test_an_open_keep_alive_connection_still_serves_its_next_request(
    server: UpgradeServer,
) -> None:
    with httpx.Client(verify=server.ssl_context(), trust_env=False) as client:
        first = client.get(server.https_url + "/")
        time.sleep(0.3)
        second = client.get(server.https_url + "/")
        assert first.status_code == second.status_code == 200
        assert first.extensions["network_stream"] is second.extensions["network_stream"]


def test_a_new_connection_may_wait_its_keep_alive_timeout_before_its_request(
    ca: BundledCA,
) -> None:
    with (
        UpgradeServer(echo_app, ca=ca, keep_alive_timeout=3.0) as running,
        socket.create_connection(("127.0.0.1", _port(running.http_url)), timeout=5) as sock,
    ):
        assert running.keep_alive_timeout == 3.0
        time.sleep(0.6)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")


def test_a_new_connection_that_sends_nothing_is_closed_after_its_keep_alive_timeout(
    ca: BundledCA,
) -> None:
    keep_alive = 0.3
    with (
        UpgradeServer(echo_app, ca=ca, keep_alive_timeout=keep_alive) as running,
        socket.create_connection(("127.0.0.1", _port(running.http_url)), timeout=5) as sock,
    ):
        started = time.monotonic()
        try:
            closed = sock.recv(65536) == b""
        except ConnectionResetError:
            closed = True
        assert closed
        assert time.monotonic() - started >= keep_alive * 0.9


def test_two_servers_listen_on_distinct_loopback_ports(
    server: UpgradeServer, ca: BundledCA
) -> None:
    with UpgradeServer(echo_app, ca=ca) as other:
        urls = [server.https_url, server.http_url, other.https_url, other.http_url]
    assert [url.split("://")[1].rsplit(":", 1)[0] for url in urls] == ["127.0.0.1"] * 4
    ports = [_port(url) for url in urls]
    assert all(port > 0 for port in ports)
    assert len(set(ports)) == 4


def test_target_is_where_the_probes_go_to_test_this_server(
    ca: BundledCA, server: UpgradeServer
) -> None:
    target = server.target(headers=(("Authorization", "Bearer t"),))
    assert target.label == f"{server.https_url} and {server.http_url}"
    assert (target.cafile, target.bundled, target.headers) == (
        str(ca.ca_pem),
        True,
        (("Authorization", "Bearer t"),),
    )
    # hypercorn cannot perform the in-band TLS upgrade unless told to (RFC 2817).
    assert target.in_band_tls is False
    with UpgradeServer(echo_app, ca=ca, tls_upgrade=True) as upgrading:
        assert upgrading.target().in_band_tls is True


def test_app_exception_gives_500_and_is_recorded(server: UpgradeServer) -> None:
    server.drain_errors()
    with httpx.Client(verify=server.ssl_context(), trust_env=False) as client:
        response = client.get(server.https_url + "/boom")
    assert response.status_code == 500
    [error] = server.drain_errors()
    assert isinstance(error, AppError)
    assert error.where == "GET /boom (HTTP/1.1, https)"
    assert error.summary == "ValueError: boom"
    assert 'raise ValueError("boom")' in error.traceback
    assert server.drain_errors() == []


def test_wsgi_app_is_served_and_its_errors_recorded(ca: BundledCA) -> None:
    def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        if environ["PATH_INFO"] == "/boom":
            raise RuntimeError("wsgi boom")
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield environ["SERVER_PROTOCOL"].encode()
        if environ["PATH_INFO"] == "/late":
            raise KeyError("late")

    with UpgradeServer(wsgi_app, ca=ca) as server:
        with httpx.Client(verify=server.ssl_context(), trust_env=False, http2=True) as client:
            secure = client.get(server.https_url + "/")
            failed = client.get(server.https_url + "/boom")
        with httpx.Client(trust_env=False) as client:
            plain = client.get(server.http_url + "/")
        late = _raw_http11_get(server.http_url, "/late")
        errors = server.drain_errors()

    assert (secure.status_code, secure.text, secure.http_version) == (200, "HTTP/2", "HTTP/2")
    assert (plain.status_code, plain.text) == (200, "HTTP/1.1")
    assert failed.status_code == 500
    # The error came after the body had begun: the chunked body is cut off.
    assert late.startswith(b"HTTP/1.1 200 ")
    assert not late.endswith(b"0\r\n\r\n")
    assert [(e.where, e.summary) for e in errors] == [
        ("GET /boom (HTTP/2, https)", "RuntimeError: wsgi boom"),
        ("GET /late (HTTP/1.1, http)", "KeyError: 'late'"),
    ]


def test_startup_failed_message_makes_start_fail_promptly(ca: BundledCA) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "lifespan"
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "db down"})

    threads = _server_threads()
    startup_timeout = 10.0
    server = UpgradeServer(app, ca=ca, startup_timeout=startup_timeout)
    started = time.monotonic()
    with pytest.raises(ServerStartError) as excinfo:
        server.start()
    # Promptly: on the app's message, not when the start-up bound runs out.
    assert time.monotonic() - started < startup_timeout / 2
    assert str(excinfo.value) == "the app failed to start: lifespan.startup.failed: db down"
    assert _server_threads() == threads
    _assert_refused(server.https_url)
    _assert_refused(server.http_url)
    server.stop()  # safe after a failed start


def test_exception_during_startup_makes_start_fail(ca: BundledCA) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        raise OSError("db down")

    threads = _server_threads()
    server = UpgradeServer(app, ca=ca)
    with pytest.raises(ServerStartError, match=r"^the app failed to start: OSError: db down$"):
        server.start()
    assert _server_threads() == threads
    _assert_refused(server.https_url)
    _assert_refused(server.http_url)


def test_startup_that_never_completes_times_out(ca: BundledCA) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await asyncio.Event().wait()

    threads = _server_threads()
    server = UpgradeServer(app, ca=ca, startup_timeout=0.3)
    with pytest.raises(ServerStartError, match=r"did not complete lifespan startup within 0\.3 s"):
        server.start()
    assert _server_threads() == threads
    _assert_refused(server.https_url)


def test_app_without_lifespan_support_starts(ca: BundledCA) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise RuntimeError(f"unsupported scope {scope['type']}")
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with UpgradeServer(app, ca=ca) as server, httpx.Client(trust_env=False) as client:
        assert client.get(server.http_url + "/").status_code == 204
        assert server.drain_errors() == []


def test_stop_cleans_up_everything() -> None:
    threads = set(threading.enumerate())
    ca = BundledCA()
    directory = ca.ca_pem.parent
    server = UpgradeServer(echo_app, ca=ca)
    server.start()
    try:
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        files = sorted(path.name for path in directory.iterdir())
        assert files == ["ca.pem", "server.key", "server.pem"]
        assert {stat.S_IMODE(path.stat().st_mode) for path in directory.iterdir()} == {0o600}
        with httpx.Client(trust_env=False) as client:
            assert client.get(server.http_url + "/").status_code == 200
    finally:
        server.stop()
    server.stop()  # idempotent
    assert set(threading.enumerate()) == threads
    _assert_refused(server.https_url)
    _assert_refused(server.http_url)
    assert directory.exists()
    ca.close()
    ca.close()  # idempotent
    assert not directory.exists()


def test_stop_is_bounded_with_idle_and_in_flight_connections(ca: BundledCA) -> None:
    stop_timeout = 3.0
    server = UpgradeServer(echo_app, ca=ca)
    server.start()
    h2 = httpx.Client(verify=server.ssl_context(), trust_env=False, http2=True)
    h1 = httpx.Client(verify=server.ssl_context(), trust_env=False)
    plain = httpx.Client(trust_env=False)
    outcome: list[int | httpx.HTTPError] = []

    def slow_request() -> None:
        with httpx.Client(trust_env=False, timeout=10) as client:
            try:
                outcome.append(client.get(server.http_url + "/slow").status_code)
            except httpx.HTTPError as exc:
                outcome.append(exc)

    in_flight = threading.Thread(target=slow_request)
    # A connection that never starts its TLS handshake.
    silent = socket.create_connection(("127.0.0.1", _port(server.https_url)))
    try:
        for client, url in (
            (h2, server.https_url),
            (h1, server.https_url),
            (plain, server.http_url),
        ):
            assert client.get(url + "/").status_code == 200  # now idle in the pool
        in_flight.start()
        time.sleep(0.2)
        started = time.monotonic()
        server.stop(timeout=stop_timeout)
        elapsed = time.monotonic() - started
    finally:
        server.stop()
        in_flight.join(10)
        for client in (h2, h1, plain):
            client.close()
        silent.close()
    # stop() returns by its own deadline (it raises if the thread outlives it).
    assert elapsed < stop_timeout + 0.5
    # hypercorn cancels the request after its graceful timeout and answers 500.
    [cut_off] = outcome
    assert cut_off == 500 or isinstance(cut_off, httpx.HTTPError)
    assert server.drain_errors() == []  # cancelling a request is not an app error


def test_tls_minimum_admits_tls10_client(ca: BundledCA, server: UpgradeServer) -> None:
    if not ssl.HAS_TLSv1:
        pytest.skip("this OpenSSL cannot offer TLS 1.0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # ssl.TLSVersion.TLSv1 is deprecated
        client_context = ca.ssl_context()
        client_context.set_ciphers("DEFAULT:@SECLEVEL=0")
        client_context.minimum_version = ssl.TLSVersion.TLSv1
        client_context.maximum_version = ssl.TLSVersion.TLSv1
    old_tls = UpgradeServer(echo_app, ca=ca, tls_minimum=ssl.TLSVersion.TLSv1)

    def handshake(url: str) -> str | None:
        with (
            socket.create_connection(("127.0.0.1", _port(url)), timeout=5) as raw,
            client_context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            return tls.version()

    with old_tls:
        assert handshake(old_tls.https_url) == "TLSv1"
    with pytest.raises(ssl.SSLError):
        handshake(server.https_url)


def test_exception_during_lifespan_shutdown_is_recorded(ca: BundledCA) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        raise RuntimeError("cannot flush")

    with UpgradeServer(app, ca=ca) as server:
        pass
    [error] = server.drain_errors()
    assert (error.where, error.summary) == ("lifespan shutdown", "RuntimeError: cannot flush")


def test_start_fails_cleanly_when_the_certificates_are_gone() -> None:
    ca = BundledCA()
    ca.close()
    threads = set(threading.enumerate())
    server = UpgradeServer(echo_app, ca=ca)
    with pytest.raises(ServerStartError, match=r"^cannot build the TLS context: FileNotFoundError"):
        server.start()
    assert set(threading.enumerate()) == threads
    _assert_refused(server.https_url)
    _assert_refused(server.http_url)


def test_unstarted_server_has_no_urls_and_stops_quietly(ca: BundledCA) -> None:
    server = UpgradeServer(echo_app, ca=ca)
    with pytest.raises(RuntimeError, match="not been started"):
        _ = server.https_url
    server.stop()
    with pytest.raises(RuntimeError, match="only once"):
        server.start()
