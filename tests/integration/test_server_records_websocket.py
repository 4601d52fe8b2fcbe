"""WebSocket handshakes and enforced refusals are on the servers' records once
their status line is sent (issue 27; ``held_bodies`` holds the bodies back)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest
import websockets.sync.client

import pytest_upgrade.server.policy as policy_module
from pytest_upgrade import BundledCA, UpgradeServer
from pytest_upgrade.probes.endpoint import ClientTrust, Endpoint
from pytest_upgrade.probes.spec import ConnectionSpec, Request
from pytest_upgrade.probes.websocket_h2 import websocket_over_h2
from pytest_upgrade.probes.websocket_offer import WebSocketOffer
from pytest_upgrade.server.enforce import Enforcer, enforcing_app
from pytest_upgrade.server.policy import PolicyServer
from support.enforcing import run_enforcing
from support.held_bodies import HeldBodies, status_line_only, websocket_routes

# -- WebSocket handshakes ------------------------------------------------------------


@pytest.fixture
def websocket_policy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], PolicyServer]]:
    """``websocket_policy(answer)``: a policy server whose routes answer WebSockets."""
    servers: list[PolicyServer] = []

    def start(answer: str) -> PolicyServer:
        routes = websocket_routes(threading.Event(), answer)
        monkeypatch.setattr(policy_module, "_routes_app", lambda _, **__: routes)
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
        ConnectionSpec(Endpoint.from_url(policy.https_url), ClientTrust(policy.ca_pem), 10),
        Request("GET", "/live"),
        role="websocket-h2",
        offering=WebSocketOffer(),
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
def held_enforcing_server() -> Iterator[tuple[UpgradeServer, Enforcer, HeldBodies]]:
    """The bundled server enforcing HTTP/1.1 and TLS/1.2 (cleartext), with its
    answers' bodies held back until released."""
    enforcer = Enforcer(session=("HTTP/1.1", "TLS/1.2"))
    held = HeldBodies(lambda scope: True)
    app = held.wrap(enforcing_app(websocket_routes(threading.Event()), enforcer, asgi=True))
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
    held_enforcing_server: tuple[UpgradeServer, Enforcer, HeldBodies],
    request_line: bytes,
    spoken: str,
) -> None:
    server, enforcer, _ = held_enforcing_server
    enforcer.begin_test("test_a.py::test_old_client")
    sock, line = status_line_only(server.http_url, request_line)
    try:
        assert line.startswith(b"HTTP/1.1 426 ")
        refused = enforcer.end_test()  # the test ends at once
    finally:
        sock.close()
    assert [(r.path, r.spoken, r.test) for r in refused] == [
        ("/old", spoken, "test_a.py::test_old_client")
    ]


def test_an_enforced_refusal_over_http2_read_by_its_headers_is_the_tests(
    held_enforcing_server: tuple[UpgradeServer, Enforcer, HeldBodies],
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
    held_enforcing_server: tuple[UpgradeServer, Enforcer, HeldBodies],
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
    result, refused = run_enforcing(pytester, "HTTP/1.1")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "enforcing HTTP/1.1: 1 legacy request(s) refused with 426",
            "  GET /old (HTTP/1.0 over http; needs HTTP/1.1)  test_old.py::test_old_client",
        ]
    )
    assert [(r["path"], r["test"]) for r in refused] == [("/old", "test_old.py::test_old_client")]
