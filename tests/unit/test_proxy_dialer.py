"""The CONNECT tunnel dialer (``probes.proxy.TunnelDialer``) against loopback stand-ins:
what it sends, what it hands over, and every way a proxy fails (an error naming the
proxy, never its credentials, within the probe's deadline)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from pytest_upgrade._model import FailureKind
from pytest_upgrade.probes.connection import Connection, Deadline, ProbeError
from pytest_upgrade.probes.endpoint import ClientTrust, Endpoint
from pytest_upgrade.probes.http1 import http1_exchange
from pytest_upgrade.probes.proxy import TunnelDialer, parse_proxy_url, tunnel_proxy
from pytest_upgrade.probes.quic import h3_exchange, quic_unavailable
from pytest_upgrade.probes.spec import ConnectionSpec, Request
from support.connect_proxies import answer, closed_port, connect_proxy, silent, tunnel


@pytest.fixture
def origin() -> Iterator[int]:
    """A loopback origin that speaks first ("hello"), then echoes what it reads."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)

    import threading

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.sendall(b"hello")
            conn.settimeout(5)
            try:
                data = conn.recv(100)
                conn.sendall(data)
            except OSError:
                return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    listener.close()
    thread.join(6)


def _dial(url: str, peer: tuple[str, int], timeout: float = 2.0) -> object:
    return TunnelDialer(parse_proxy_url(url))(peer, timeout)


def _failure(url: str, peer: tuple[str, int] = ("127.0.0.1", 9), timeout: float = 2.0) -> str:
    with pytest.raises(ProbeError) as caught:
        _dial(url, peer, timeout)
    assert caught.value.kind is FailureKind.PROXY
    return caught.value.message


def test_the_tunnel_asks_for_the_peer_and_hands_over_the_origins_bytes(origin: int) -> None:
    with connect_proxy(tunnel()) as proxy:
        sock = TunnelDialer(parse_proxy_url(proxy.url))(("127.0.0.1", origin), 2.0)
        try:
            sock.settimeout(2)
            assert sock.recv(100) == b"hello"
            sock.sendall(b"ping")
            assert sock.recv(100) == b"ping"
        finally:
            sock.close()
    # RFC 9110 §9.3.6: authority-form, and Host the same authority.
    assert proxy.request_lines == [f"CONNECT 127.0.0.1:{origin} HTTP/1.1"]
    assert proxy.header("host") == f"127.0.0.1:{origin}"
    assert proxy.header("proxy-authorization") is None


def test_an_ipv6_peer_is_asked_for_in_brackets() -> None:
    forbidden = answer(b"HTTP/1.1 403 Forbidden\r\n\r\n")
    with connect_proxy(forbidden) as proxy, pytest.raises(ProbeError):
        _dial(proxy.url, ("::1", 8443))
    assert proxy.request_lines == ["CONNECT [::1]:8443 HTTP/1.1"]


def test_credentials_go_as_basic_proxy_authorization(origin: int) -> None:
    with connect_proxy(tunnel(user="ci@corp", password="p:ss")) as proxy:
        sock = _dial(f"http://ci%40corp:p%3Ass@127.0.0.1:{proxy.port}", ("127.0.0.1", origin))
        sock.close()  # type: ignore[attr-defined]
    assert proxy.header("proxy-authorization") == "Basic Y2lAY29ycDpwOnNz"


def test_bytes_after_the_answer_head_are_the_origins_and_read_first() -> None:
    scripted = b"HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 426 Upgrade Required\r\n"
    with connect_proxy(answer(scripted, hold=True)) as proxy:
        sock = _dial(proxy.url, ("127.0.0.1", 1))
        try:
            assert sock.recv(9) == b"HTTP/1.1 "  # type: ignore[attr-defined]
            assert sock.recv(100) == b"426 Upgrade Required\r\n"  # type: ignore[attr-defined]
        finally:
            sock.close()  # type: ignore[attr-defined]


def test_a_probe_reads_the_origins_answer_sent_with_the_proxys_head() -> None:
    origin = b"HTTP/1.1 426 Upgrade Required\r\nUpgrade: h2c\r\nContent-Length: 0\r\n\r\n"
    scripted = b"HTTP/1.1 200 Connection established\r\n\r\n" + origin
    with connect_proxy(answer(scripted, hold=True)) as proxy:
        dialer = TunnelDialer(parse_proxy_url(proxy.url))
        spec = ConnectionSpec(
            Endpoint.from_url("http://127.0.0.1:8080"), ClientTrust(), 2.0, dialer=dialer
        )
        exchange = http1_exchange(spec, Request("GET", "/"), role="legacy")
    assert exchange.failure is None
    assert exchange.response is not None
    assert (exchange.response.status, exchange.response.values("upgrade")) == (426, ["h2c"])


def test_an_http10_answer_and_informational_ones_are_read_through() -> None:
    scripted = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nContent-Length: 9\r\n\r\n"
    with connect_proxy(answer(scripted, hold=True)) as proxy:
        # RFC 9110 §9.3.6: a 2xx to CONNECT has no content, whatever Content-Length says.
        sock = _dial(proxy.url, ("127.0.0.1", 1))
        sock.close()  # type: ignore[attr-defined]


def test_a_proxy_that_is_down_is_named() -> None:
    port = closed_port()
    message = _failure(f"http://user:secret@127.0.0.1:{port}")
    assert message.startswith(f"proxy http://127.0.0.1:{port}: cannot connect:")
    assert "secret" not in message
    assert "user" not in message


def test_a_proxy_name_that_does_not_resolve_is_named() -> None:
    message = _failure("http://proxy.invalid:3128")
    assert message.startswith("proxy http://proxy.invalid:3128: cannot resolve 'proxy.invalid'")


def test_403_is_a_policy_refusal() -> None:
    with connect_proxy(answer(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")) as proxy:
        message = _failure(proxy.url, ("127.0.0.1", 8443))
    assert message == (
        f"proxy {proxy.url}: refused the tunnel to 127.0.0.1:8443 (403 Forbidden):"
        " the proxy's policy forbids a tunnel to this host or port"
    )


_407 = (
    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
    b'Proxy-Authenticate: Basic realm="x"\r\nContent-Length: 0\r\n\r\n'
)


def test_407_without_credentials_says_they_are_missing() -> None:
    with connect_proxy(answer(_407)) as proxy:
        message = _failure(proxy.url)
    assert "(407 Proxy Authentication Required)" in message
    assert "the proxy requires credentials and none were given" in message


def test_407_with_credentials_says_they_were_refused_without_printing_them() -> None:
    with connect_proxy(answer(_407)) as proxy:
        message = _failure(f"http://ci:hunter2@127.0.0.1:{proxy.port}")
    assert "the proxy credentials given were refused" in message
    assert "hunter2" not in message
    assert "ci:" not in message
    assert proxy.header("proxy-authorization") == "Basic Y2k6aHVudGVyMg=="


def test_another_status_is_the_proxys_answer() -> None:
    with connect_proxy(answer(b"HTTP/1.1 503 Service Unavailable\r\n\r\n")) as proxy:
        message = _failure(proxy.url)
    assert message == (
        f"proxy {proxy.url}: refused the tunnel to 127.0.0.1:9 (503 Service Unavailable):"
        " the proxy could not reach the target (up, and reachable from it?)"
    )


def test_an_unexpected_status_is_named() -> None:
    with connect_proxy(answer(b"HTTP/1.1 418 I'm a teapot\r\n\r\n")) as proxy:
        message = _failure(proxy.url)
    assert message == f"proxy {proxy.url}: refused the tunnel to 127.0.0.1:9 (418 I'm a teapot)"


def test_a_proxy_that_hangs_costs_the_probe_timeout_only() -> None:
    with connect_proxy(silent) as proxy:
        started = time.monotonic()
        message = _failure(proxy.url, timeout=0.5)
        elapsed = time.monotonic() - started
    assert message == f"proxy {proxy.url}: no answer to CONNECT within 0.5 s"
    assert 0.45 <= elapsed < 1.5


def test_a_proxy_that_drips_its_head_is_cut_at_the_deadline() -> None:
    with connect_proxy(answer(b"HTTP/1.1 200 OK\r\nX: 1\r\n", hold=True)) as proxy:
        message = _failure(proxy.url, timeout=0.5)
    assert "no answer to CONNECT within 0.5 s" in message


def test_garbage_is_not_http() -> None:
    with connect_proxy(answer(b"\x16\x03\x01\x00\x05hello\r\n\r\n")) as proxy:
        message = _failure(proxy.url)
    assert message.startswith(f"proxy {proxy.url}: its answer to CONNECT is not HTTP (")


def test_a_close_before_the_answer() -> None:
    with connect_proxy(answer(b"")) as proxy:
        message = _failure(proxy.url)
    assert message == f"proxy {proxy.url}: it closed the connection before answering CONNECT"


def test_a_head_over_the_limit_is_refused() -> None:
    head = b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 5000 + b"\r\n\r\n"
    with connect_proxy(answer(head, hold=True)) as proxy, pytest.raises(ProbeError) as caught:
        TunnelDialer(parse_proxy_url(proxy.url), head_limit=1024)(("127.0.0.1", 1), 2.0)
    assert caught.value.message == (
        f"proxy {proxy.url}: its answer to CONNECT has a head over 1024 bytes"
    )


def test_a_probe_through_a_failing_proxy_records_the_proxys_failure() -> None:
    endpoint = Endpoint.from_url("https://127.0.0.1:8443")
    with connect_proxy(answer(b"HTTP/1.1 403 Forbidden\r\n\r\n")) as proxy:
        dialer = TunnelDialer(parse_proxy_url(proxy.url))
        spec = ConnectionSpec(endpoint, ClientTrust(), 2.0, dialer=dialer)
        exchange = http1_exchange(spec, Request("GET", "/"), role="legacy")
        with pytest.raises(ProbeError) as caught:
            Connection.open(spec, Deadline(2.0))
    assert exchange.failure is not None
    assert exchange.failure.kind is FailureKind.PROXY
    assert exchange.failure.is_error  # the test errors: nothing is judged
    assert exchange.failure.message.startswith(f"proxy {proxy.url}: refused the tunnel")
    assert caught.value.kind is FailureKind.PROXY


def test_quic_cannot_go_through_the_proxy() -> None:
    endpoint = Endpoint.from_url("https://127.0.0.1:8443")
    spec = ConnectionSpec(
        endpoint, ClientTrust(), 1.0, dialer=TunnelDialer(parse_proxy_url("http://p:3128"))
    )
    assert tunnel_proxy(spec) == parse_proxy_url("http://p:3128")
    reason = quic_unavailable(spec)
    assert reason is not None
    assert "cannot go through the HTTP proxy p:3128" in reason
    exchange = h3_exchange(spec, Request("GET", "/"), role="upgraded", alternative=("::1", 1))
    assert exchange.failure is not None
    assert exchange.failure.kind is FailureKind.UNSUPPORTED
    assert tunnel_proxy(ConnectionSpec(endpoint, ClientTrust(), 1.0)) is None
