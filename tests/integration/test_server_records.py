"""The policy server's record holds an exchange once its status line is sent (issue 27).

Each test makes the race deterministic (``held_bodies``): an answer's status
line goes out at once and its body is held back, below the record and above
the enforcer, and the client reads only the status line and asks the record
at once. A record that waited for the body would miss the exchange every time.
"""

from __future__ import annotations

import contextlib
import http.client
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import pytest_upgrade.server.policy as policy_module
from pytest_upgrade.server.enforce import enforcing_app
from pytest_upgrade.server.policy import PolicyServer
from support.held_bodies import HeldBodies, Scope, Selector, port_of, status_line_only


@pytest.fixture
def held_policy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., PolicyServer]]:
    """``held_policy(requirement, select, routes=None)``: a policy server whose
    answers picked by ``select`` have their bodies held (``server.held``)."""
    servers: list[tuple[PolicyServer, HeldBodies]] = []

    def start(
        requirement: str, select: Selector, routes: dict[str, Any] | None = None
    ) -> PolicyServer:
        held = HeldBodies(select)
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


@pytest.fixture
def policy(held_policy: Callable[..., PolicyServer]) -> PolicyServer:
    """A policy server enforcing HTTP/1.1, every answer's body held."""
    return held_policy("HTTP/1.1", lambda scope: True)


@contextlib.contextmanager
def _released_after(policy: PolicyServer, seconds: float) -> Iterator[None]:
    """Within the block, ``policy``'s held bodies are released ``seconds`` after it
    starts (the timer is cancelled when it ends)."""
    timer = policy.held.release_after(seconds)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        timer.cancel()


def _http10_status(url: str, path: str) -> int:
    """The issue's client: Python's http.client speaking HTTP/1.0, status only."""
    connection = http.client.HTTPConnection("127.0.0.1", port_of(url), timeout=10)
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
    policy: PolicyServer,
) -> None:
    # The issue's reproduction, made deterministic: the 426's body leaves 0.5 s
    # after its status line, and the client asks the record at once.
    with _released_after(policy, 0.5):
        assert _http10_status(policy.http_url, "/old") == 426
        with pytest.raises(AssertionError, match=r"1 request\(s\) were made over HTTP/1.0"):
            policy.assert_no_request_over("HTTP/1.0")
    (refused,) = policy.refused()
    assert (refused.method, refused.path, refused.protocol) == ("GET", "/old", "HTTP/1.0")
    assert refused.detail is not None
    assert "requires HTTP/1.1" in refused.detail


def test_raw_socket_reading_only_the_status_line_finds_the_exchange_recorded(
    policy: PolicyServer,
) -> None:
    with _released_after(policy, 0.5):
        sock, line = status_line_only(policy.http_url, b"GET /old HTTP/1.0\r\nHost: x\r\n\r\n")
        try:
            assert line.startswith(b"HTTP/1.1 426 ")
            exchanges = policy.exchanges
        finally:
            sock.close()
    assert [(e.path, e.protocol, e.status) for e in exchanges] == [("/old", "HTTP/1.0", 426)]
    # The reader waited for the 426's body: its problem detail is complete.
    assert exchanges[0].detail is not None
    assert "GET /old" in exchanges[0].detail


def test_problem_detail_is_there_for_a_client_that_read_only_the_status(
    policy: PolicyServer,
) -> None:
    with _released_after(policy, 0.3):
        assert _http10_status(policy.http_url, "/orders") == 426
        detail = policy.problem_detail("/orders")
    assert detail.startswith("GET /orders was requested over HTTP/1.0")


def test_a_body_that_never_comes_does_not_hold_the_reader(
    held_policy: Callable[..., PolicyServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reader waits for a 426's body only so long; the exchange is on the
    # record all along, without its detail until the body is sent.
    monkeypatch.setattr(policy_module, "_DETAIL_WAIT", 0.2, raising=False)
    policy = held_policy("HTTP/1.1", lambda scope: True)  # released only at teardown
    sock, line = status_line_only(policy.http_url, b"GET /slow HTTP/1.0\r\nHost: x\r\n\r\n")
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
    monkeypatch.setattr(policy_module, "_routes_app", lambda _, **__: _streaming_426(chunks))
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
        with (
            _released_after(policy, 0.5),
            client.stream("GET", policy.https_url + "/again") as response,
        ):
            assert response.status_code == 426  # status and headers only
            with pytest.raises(AssertionError, match="legacy protocol again after #1"):
                policy.assert_only_upgraded_after_426()


def test_cleartext_http11_status_line_only(held_policy: Callable[..., PolicyServer]) -> None:
    policy = held_policy("h2", lambda scope: True)
    request = b"GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with _released_after(policy, 0.5):
        sock, line = status_line_only(policy.http_url, request)
        try:
            assert line.startswith(b"HTTP/1.1 426 ")
            with pytest.raises(AssertionError, match=r"1 request\(s\) were made over http"):
                policy.assert_no_request_over("http")
        finally:
            sock.close()


def test_a_200_is_on_the_record_before_its_body_is_sent(
    held_policy: Callable[..., PolicyServer],
) -> None:
    # No timer: the body is released only after the record was read, so the
    # exchange can be there only if it was recorded with its status line.
    policy = held_policy("HTTP/1.1", lambda scope: True, {"/orders": (200, {"orders": []})})
    request = b"GET /orders HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    sock, line = status_line_only(policy.http_url, request)
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
    with (
        _released_after(policy, 0.5),
        httpx.Client(trust_env=False, http1=False, http2=True) as client,
        client.stream("GET", policy.http_url + "/v2") as response,
    ):
        assert (response.http_version, response.status_code) == ("HTTP/2", 426)
        with pytest.raises(AssertionError, match=r"1 request\(s\) were made over HTTP/2"):
            policy.assert_no_request_over("HTTP/2")
    (refused,) = policy.refused()
    assert refused.detail is not None
    assert "requires TLS 1.2" in refused.detail
