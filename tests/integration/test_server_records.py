"""The servers' records hold an exchange once its status line is sent (issue 27).

Each test makes the race deterministic: an ASGI layer between the policy
server's record and its apps lets an answer's status line out at once and
holds its body back (until the test releases it, or on a timer), and the
client reads only the status line and asks the record at once. A record
that waited for the body would miss the exchange every time.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import websockets.sync.client

import pytest_upgrade.server.policy as policy_module
from pytest_upgrade.probes.endpoint import ClientTrust, Endpoint
from pytest_upgrade.probes.websocket_h2 import websocket_over_h2
from pytest_upgrade.server.bundled import BundledCA, UpgradeServer
from pytest_upgrade.server.enforce import Enforcer, enforcing_app
from pytest_upgrade.server.policy import PolicyServer

Scope = dict[str, Any]
Selector = Callable[[Scope], bool]
_HELD_AT_MOST = 10.0  # s: a held body is sent by then whatever happens


class _HeldBodies:
    """Holds back the bodies of the answers ``select`` picks until ``release``."""

    def __init__(self, select: Selector) -> None:
        self.select = select
        self.release = threading.Event()
        self.started = threading.Event()  # a selected answer's status was sent

    def wrap(self, app: Callable[..., Any]) -> Callable[..., Any]:
        async def held(scope: Scope, receive: Any, send: Any) -> None:
            if scope["type"] != "http" or not self.select(scope):
                await app(scope, receive, send)
                return

            async def send_later(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.body":
                    deadline = time.monotonic() + _HELD_AT_MOST
                    while not self.release.is_set() and time.monotonic() < deadline:
                        await asyncio.sleep(0.005)
                await send(message)
                if message["type"] == "http.response.start":
                    self.started.set()

            await app(scope, receive, send_later)

        return held

    def release_after(self, seconds: float) -> threading.Timer:
        timer = threading.Timer(seconds, self.release.set)
        timer.start()
        return timer


@pytest.fixture
def held_policy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., PolicyServer]]:
    """``held_policy(requirement, select, routes=None)``: a policy server whose
    answers picked by ``select`` have their bodies held (``server.held``)."""
    servers: list[tuple[PolicyServer, _HeldBodies]] = []

    def start(
        requirement: str, select: Selector, routes: dict[str, Any] | None = None
    ) -> PolicyServer:
        held = _HeldBodies(select)
        # Below the record, above the enforcer: the enforcer's own 426 is held too.
        monkeypatch.setattr(
            policy_module,
            "enforcing_app",
            lambda app, enforcer, asgi: held.wrap(enforcing_app(app, enforcer, asgi=asgi)),
        )
        server = PolicyServer(requirement, routes)
        servers.append((server, held))
        server.held = held  # type: ignore[attr-defined]
        return server

    yield start
    for server, held in servers:
        held.release.set()
        server.stop()


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _status_line_only(url: str, request: bytes) -> tuple[socket.socket, bytes]:
    """Send ``request`` and read up to the end of the status line, no further."""
    sock = socket.create_connection(("127.0.0.1", _port(url)), timeout=10)
    sock.sendall(request)
    line = b""
    while not line.endswith(b"\r\n"):
        byte = sock.recv(1)
        if not byte:
            break
        line += byte
    return sock, line


def _http10_status(url: str, path: str) -> int:
    """The issue's client: Python's http.client speaking HTTP/1.0, status only."""
    connection = http.client.HTTPConnection("127.0.0.1", _port(url), timeout=10)
    connection._http_vsn, connection._http_vsn_str = 10, "HTTP/1.0"  # type: ignore[attr-defined]
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def _h2_client(server: PolicyServer) -> httpx.Client:
    return httpx.Client(verify=server.ssl_context(), trust_env=False, http1=False, http2=True)


def _http11_tls_client(server: PolicyServer) -> httpx.Client:
    return httpx.Client(verify=server.ssl_context(), trust_env=False)


# -- HTTP/1.0 ------------------------------------------------------------------------


def test_http_client_speaking_http10_is_on_the_record_once_it_has_its_status(
    held_policy: Callable[..., PolicyServer],
) -> None:
    # The issue's reproduction, made deterministic: the 426's body leaves 0.5 s
    # after its status line, and the client asks the record at once.
    policy = held_policy("HTTP/1.1", lambda scope: True)
    timer = policy.held.release_after(0.5)  # type: ignore[attr-defined]
    try:
        assert _http10_status(policy.http_url, "/old") == 426
        with pytest.raises(AssertionError, match=r"1 request\(s\) were made over HTTP/1.0"):
            policy.assert_no_request_over("HTTP/1.0")
    finally:
        timer.cancel()
    (refused,) = policy.refused()
    assert (refused.method, refused.path, refused.protocol) == ("GET", "/old", "HTTP/1.0")
    assert refused.detail is not None
    assert "requires HTTP/1.1" in refused.detail


def test_raw_socket_reading_only_the_status_line_finds_the_exchange_recorded(
    held_policy: Callable[..., PolicyServer],
) -> None:
    policy = held_policy("HTTP/1.1", lambda scope: True)
    timer = policy.held.release_after(0.5)  # type: ignore[attr-defined]
    sock, line = _status_line_only(policy.http_url, b"GET /old HTTP/1.0\r\nHost: x\r\n\r\n")
    try:
        assert line.startswith(b"HTTP/1.1 426 ")
        exchanges = policy.exchanges
    finally:
        sock.close()
        timer.cancel()
    assert [(e.path, e.protocol, e.status) for e in exchanges] == [("/old", "HTTP/1.0", 426)]
    # The reader waited for the 426's body: its problem detail is complete.
    assert exchanges[0].detail is not None
    assert "GET /old" in exchanges[0].detail


def test_problem_detail_is_there_for_a_client_that_read_only_the_status(
    held_policy: Callable[..., PolicyServer],
) -> None:
    policy = held_policy("HTTP/1.1", lambda scope: True)
    timer = policy.held.release_after(0.3)  # type: ignore[attr-defined]
    try:
        assert _http10_status(policy.http_url, "/orders") == 426
        detail = policy.problem_detail("/orders")
    finally:
        timer.cancel()
    assert detail.startswith("GET /orders was requested over HTTP/1.0")


def test_a_body_that_never_comes_does_not_hold_the_reader(
    held_policy: Callable[..., PolicyServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reader waits for a 426's body only so long; the exchange is on the
    # record all along, without its detail until the body is sent.
    monkeypatch.setattr(policy_module, "_DETAIL_WAIT", 0.2, raising=False)
    policy = held_policy("HTTP/1.1", lambda scope: True)  # released only at teardown
    sock, line = _status_line_only(policy.http_url, b"GET /slow HTTP/1.0\r\nHost: x\r\n\r\n")
    try:
        assert line.startswith(b"HTTP/1.1 426 ")
        began = time.monotonic()
        (exchange,) = policy.exchanges
        waited = time.monotonic() - began
    finally:
        sock.close()
    assert (exchange.path, exchange.status, exchange.detail) == ("/slow", 426, None)
    assert waited < 5.0
    assert "#1 GET /slow over HTTP/1.0" in policy.transcript()


def _streaming_426(chunks: list[bytes]) -> Callable[..., Any]:
    """An app answering every request with a 426 whose body comes in ``chunks``."""

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 426, "headers": []})
        for n, chunk in enumerate(chunks, 1):
            await send({"type": "http.response.body", "body": chunk, "more_body": n < len(chunks)})

    return app


@pytest.mark.parametrize(
    ("limit", "chunks", "detail"),
    [
        (65536, [b'{"status": 426, "det', b'ail": "use HTTP/2"}'], "use HTTP/2"),
        (65536, [b"Upgrade Required"], None),  # not a problem document
        (8, [b'{"status": 426, "det', b'ail": "use HTTP/2"}'], None),  # beyond the limit kept
    ],
)
def test_a_426_body_in_pieces_gives_its_detail(
    monkeypatch: pytest.MonkeyPatch, limit: int, chunks: list[bytes], detail: str | None
) -> None:
    monkeypatch.setattr(policy_module, "_DETAIL_LIMIT", limit)
    monkeypatch.setattr(policy_module, "_routes_app", lambda _: _streaming_426(chunks))
    policy = PolicyServer("HTTP/1.1")
    try:
        with httpx.Client(trust_env=False) as client:
            assert client.get(policy.http_url + "/any").status_code == 426
        (exchange,) = policy.exchanges
    finally:
        policy.stop()
    assert (exchange.status, exchange.detail) == (426, detail)


# -- HTTP/1.1 ------------------------------------------------------------------------


def test_a_second_refusal_read_by_status_is_not_a_false_pass_of_only_upgraded(
    held_policy: Callable[..., PolicyServer],
) -> None:
    policy = held_policy("h2", lambda scope: scope["path"] == "/again")
    with _http11_tls_client(policy) as client:
        assert client.get(policy.https_url + "/orders").status_code == 426
        timer = policy.held.release_after(0.5)  # type: ignore[attr-defined]
        try:
            with client.stream("GET", policy.https_url + "/again") as response:
                assert response.status_code == 426  # status and headers only
                with pytest.raises(AssertionError, match="legacy protocol again after #1"):
                    policy.assert_only_upgraded_after_426()
        finally:
            timer.cancel()


def test_cleartext_http11_status_line_only(held_policy: Callable[..., PolicyServer]) -> None:
    policy = held_policy("h2", lambda scope: True)
    timer = policy.held.release_after(0.5)  # type: ignore[attr-defined]
    request = b"GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    sock, line = _status_line_only(policy.http_url, request)
    try:
        assert line.startswith(b"HTTP/1.1 426 ")
        with pytest.raises(AssertionError, match=r"1 request\(s\) were made over http"):
            policy.assert_no_request_over("http")
    finally:
        sock.close()
        timer.cancel()


def test_a_200_is_on_the_record_before_its_body_is_sent(
    held_policy: Callable[..., PolicyServer],
) -> None:
    # No timer: the body is released only after the record was read, so the
    # exchange can be there only if it was recorded with its status line.
    policy = held_policy("HTTP/1.1", lambda scope: True, {"/orders": (200, {"orders": []})})
    request = b"GET /orders HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    sock, line = _status_line_only(policy.http_url, request)
    try:
        assert line.startswith(b"HTTP/1.1 200 ")
        exchanges = policy.exchanges
    finally:
        policy.held.release.set()  # type: ignore[attr-defined]
        sock.close()
    assert [(e.path, e.protocol, e.status, e.detail) for e in exchanges] == [
        ("/orders", "HTTP/1.1", 200, None)
    ]


# -- HTTP/2 --------------------------------------------------------------------------


def test_the_retry_over_http2_is_on_the_record_once_its_headers_arrive(
    held_policy: Callable[..., PolicyServer],
) -> None:
    # Without the fix, assert_retried_after_426 fails falsely: the retry's
    # headers are in, its body (held until after the assertion) is not.
    policy = held_policy(
        "h2", lambda scope: scope["http_version"] == "2", {"/orders": (200, {"orders": [1]})}
    )
    with _http11_tls_client(policy) as client:
        assert client.get(policy.https_url + "/orders").status_code == 426
    try:
        with (
            _h2_client(policy) as client,
            client.stream("GET", policy.https_url + "/orders") as response,
        ):
            assert (response.http_version, response.status_code) == ("HTTP/2", 200)
            policy.assert_retried_after_426("/orders", method="GET")
            upgraded = policy.upgraded()
            policy.held.release.set()  # type: ignore[attr-defined]
            assert response.read() == b'{"orders": [1]}'
    finally:
        policy.held.release.set()  # type: ignore[attr-defined]
    assert [(e.protocol, e.status) for e in upgraded] == [("HTTP/2", 200)]


def test_a_426_over_http2_read_by_headers_is_on_the_record(
    held_policy: Callable[..., PolicyServer],
) -> None:
    # HTTP/2 with prior knowledge over cleartext under a TLS requirement: a 426
    # over HTTP/2 (RFC 2817 §4 asks for TLS on the cleartext connection).
    policy = held_policy("TLS/1.2", lambda scope: True)
    timer = policy.held.release_after(0.5)  # type: ignore[attr-defined]
    try:
        with (
            httpx.Client(trust_env=False, http1=False, http2=True) as client,
            client.stream("GET", policy.http_url + "/v2") as response,
        ):
            assert (response.http_version, response.status_code) == ("HTTP/2", 426)
            with pytest.raises(AssertionError, match=r"1 request\(s\) were made over HTTP/2"):
                policy.assert_no_request_over("HTTP/2")
    finally:
        timer.cancel()
    (refused,) = policy.refused()
    assert refused.detail is not None
    assert "requires TLS 1.2" in refused.detail


# -- WebSocket handshakes ------------------------------------------------------------


_DENIAL = b'{"title": "Upgrade Required", "status": 426, "detail": "offer HTTP/2"}'


def _websocket_routes(accept: threading.Event, answer: str = "accept") -> Callable[..., Any]:
    """An app that answers WebSocket handshakes (``answer``: accept, close or a
    426 denial response) and HTTP requests with 200."""

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            if answer == "close":
                await send({"type": "websocket.close"})
                return
            if answer == "deny":
                start = {"type": "websocket.http.response.start", "status": 426, "headers": []}
                await send(start)
                await send({"type": "websocket.http.response.body", "body": _DENIAL})
                return
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.send", "text": "hello"})
            accept.set()
            while (await receive())["type"] != "websocket.disconnect":
                pass
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


@pytest.fixture
def websocket_policy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], PolicyServer]]:
    """``websocket_policy(answer)``: a policy server whose routes answer WebSockets."""
    servers: list[PolicyServer] = []

    def start(answer: str) -> PolicyServer:
        routes = _websocket_routes(threading.Event(), answer)
        monkeypatch.setattr(policy_module, "_routes_app", lambda _: routes)
        servers.append(PolicyServer("HTTP/1.1"))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def _ws_url(server: PolicyServer, path: str) -> str:
    return server.http_url.replace("http://", "ws://") + path


def test_a_websocket_handshake_is_on_the_record_once_its_101_is_sent(
    websocket_policy: Callable[[str], PolicyServer],
) -> None:
    policy = websocket_policy("accept")
    with websockets.sync.client.connect(_ws_url(policy, "/live"), open_timeout=10, proxy=None):
        exchanges = policy.exchanges  # the app holds the connection open meanwhile
    assert [(e.method, e.path, e.protocol, e.status) for e in exchanges] == [
        ("GET", "/live", "HTTP/1.1", 101)
    ]


def test_a_websocket_over_http2_is_recorded_as_its_extended_connect(
    websocket_policy: Callable[[str], PolicyServer],
) -> None:
    policy = websocket_policy("accept")
    exchange = websocket_over_h2(
        Endpoint.from_url(policy.https_url),
        role="websocket-h2",
        path="/live",
        trust=ClientTrust(policy.ca_pem),
        timeout=10,
    )
    assert exchange.failure is None, exchange.failure
    assert [(e.method, e.path, e.protocol, e.status) for e in policy.exchanges] == [
        ("CONNECT", "/live", "HTTP/2", 200)  # RFC 8441 §4-5
    ]


@pytest.mark.parametrize(
    ("answer", "status", "detail"), [("close", 403, None), ("deny", 426, "offer HTTP/2")]
)
def test_a_refused_websocket_handshake_is_recorded_with_its_status(
    websocket_policy: Callable[[str], PolicyServer], answer: str, status: int, detail: str | None
) -> None:
    policy = websocket_policy(answer)
    with pytest.raises(websockets.exceptions.InvalidStatus) as excinfo:
        websockets.sync.client.connect(_ws_url(policy, "/live"), open_timeout=10, proxy=None)
    assert excinfo.value.response.status_code == status
    assert [(e.method, e.status, e.detail) for e in policy.exchanges] == [("GET", status, detail)]


def test_a_websocket_handshake_the_app_did_not_answer_is_recorded_as_hypercorns_500() -> None:
    # The policy server's own routes answer no WebSocket: hypercorn sends 500.
    policy = PolicyServer("HTTP/1.1")
    try:
        with pytest.raises(websockets.exceptions.InvalidStatus) as excinfo:
            websockets.sync.client.connect(_ws_url(policy, "/live"), open_timeout=10, proxy=None)
        exchanges = policy.exchanges
    finally:
        policy.stop()
    assert excinfo.value.response.status_code == 500
    assert [(e.method, e.path, e.status) for e in exchanges] == [("GET", "/live", 500)]


# -- the bundled server's enforcement record ----------------------------------------


@pytest.fixture
def held_enforcing_server() -> Iterator[tuple[UpgradeServer, Enforcer, _HeldBodies]]:
    """The bundled server enforcing HTTP/1.1 and TLS/1.2 (cleartext), with its
    answers' bodies held back until released."""
    enforcer = Enforcer(session=("HTTP/1.1", "TLS/1.2"))
    held = _HeldBodies(lambda scope: True)
    app = held.wrap(enforcing_app(_websocket_routes(threading.Event()), enforcer, asgi=True))
    ca = BundledCA()
    try:
        with UpgradeServer(app, ca=ca, h3=False) as server:
            try:
                yield server, enforcer, held
            finally:
                held.release.set()
    finally:
        ca.close()


@pytest.mark.parametrize(
    ("request_line", "spoken"),
    [
        (b"GET /old HTTP/1.0\r\nHost: x\r\n\r\n", "HTTP/1.0 over http"),
        (b"GET /old HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "HTTP/1.1 over http"),
    ],
)
def test_an_enforced_refusal_read_by_its_status_line_is_the_tests(
    held_enforcing_server: tuple[UpgradeServer, Enforcer, _HeldBodies],
    request_line: bytes,
    spoken: str,
) -> None:
    server, enforcer, _ = held_enforcing_server
    enforcer.begin_test("test_a.py::test_old_client")
    sock, line = _status_line_only(server.http_url, request_line)
    try:
        assert line.startswith(b"HTTP/1.1 426 ")
        refused = enforcer.end_test()  # the test ends at once
    finally:
        sock.close()
    assert [(r.path, r.spoken, r.test) for r in refused] == [
        ("/old", spoken, "test_a.py::test_old_client")
    ]


def test_an_enforced_refusal_over_http2_read_by_its_headers_is_the_tests(
    held_enforcing_server: tuple[UpgradeServer, Enforcer, _HeldBodies],
) -> None:
    server, enforcer, _ = held_enforcing_server
    enforcer.begin_test("test_a.py::test_h2c_client")
    with (
        httpx.Client(trust_env=False, http1=False, http2=True) as client,
        client.stream("GET", server.http_url + "/v2") as response,
    ):
        assert (response.http_version, response.status_code) == ("HTTP/2", 426)
        refused = enforcer.end_test()
    assert [(r.path, r.spoken) for r in refused] == [("/v2", "HTTP/2 over http")]


def test_a_websocket_handshake_is_seen_before_its_101(
    held_enforcing_server: tuple[UpgradeServer, Enforcer, _HeldBodies],
) -> None:
    # The key the bundled server records tells the app's answers from hypercorn's.
    server, _, _ = held_enforcing_server
    key = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 §1.3
    handshake = (
        "GET /live HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    port = int(server.https_url.rsplit(":", 1)[1])
    context = server.ssl_context()
    context.set_alpn_protocols(["http/1.1"])
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as sock,
    ):
        sock.sendall(handshake.encode())
        assert sock.recv(12) == b"HTTP/1.1 101"
        assert server.app_saw_websocket_key(key)


ENFORCED_SUITE = """
import socket

def test_old_client(upgrade_server):
    port = int(upgrade_server.http_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /old HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n")
        assert sock.recv(12) == b"HTTP/1.1 426"  # the status, and the test ends
"""


def test_an_enforced_refusal_read_by_its_status_is_in_the_summary_and_json(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """
import pytest

async def app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})

@pytest.fixture(scope="session")
def upgrade_app():
    return app
"""
    )
    pytester.makepyfile(test_old=ENFORCED_SUITE)
    report = pytester.path / "report.json"
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--upgrade-enforce=HTTP/1.1", f"--upgrade-report={report}"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "enforcing HTTP/1.1: 1 legacy request(s) refused with 426",
            "  GET /old (HTTP/1.0 over http; needs HTTP/1.1)  test_old.py::test_old_client",
        ]
    )
    refused = json.loads(report.read_text())["refused"]
    assert [(r["path"], r["test"]) for r in refused] == [("/old", "test_old.py::test_old_client")]
