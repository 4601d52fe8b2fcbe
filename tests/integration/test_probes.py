"""The probes against a real bundled server, without the pytest layer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pytest_upgrade import BundledCA, UpgradeServer
from pytest_upgrade._model import Exchange, FailureKind, Requirement
from pytest_upgrade.probes.endpoint import ClientTrust, Endpoint
from pytest_upgrade.probes.http2 import http2_exchange
from pytest_upgrade.probes.spec import ConnectionSpec, Request
from pytest_upgrade.probes.target import Target
from support import raw_servers
from support.probing import observe


async def plain_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = f"HTTP/{scope['http_version']} over {scope['scheme']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def http11_only_server() -> Iterator[Target]:
    """A bundled server that offers only http/1.1 by ALPN, as a trusted target."""
    ca = BundledCA()
    try:
        with UpgradeServer(plain_app, ca=ca, alpn_protocols=("http/1.1",)) as server:
            cafile = str(ca.ca_pem)
            target = Target(
                Endpoint.from_url(server.https_url),
                Endpoint.from_url(server.http_url),
                ClientTrust(cafile),
                cafile,
                bundled=True,
            )
            yield target
    finally:
        ca.close()


def _upgraded(target: Target, protocol: str) -> Exchange:
    """The upgraded exchange of ``protocol``'s probes against ``target``."""
    upgraded = observe(Requirement(protocol, "/x"), target, timeout=5).exchange("upgraded")
    assert upgraded is not None
    return upgraded


def test_tls_probe_falls_back_to_http11_when_h2_is_not_offered(http11_only_server: Target) -> None:
    upgraded = _upgraded(http11_only_server, "TLS/1.2")
    assert upgraded.failure is None
    assert upgraded.response is not None
    assert upgraded.response.http_version == "1.1"
    assert upgraded.response.body == b"HTTP/1.1 over https"
    assert upgraded.transport is not None
    assert upgraded.transport.alpn == "http/1.1"


def test_h2_probe_reports_the_alpn_the_server_chose(http11_only_server: Target) -> None:
    upgraded = _upgraded(http11_only_server, "h2")
    assert upgraded.failure is not None
    assert upgraded.failure.message == "the server selected http/1.1 by ALPN, not h2"


def _prior_knowledge_get(url: str) -> Any:
    spec = ConnectionSpec(Endpoint.from_url(url), ClientTrust(None), 5)
    return http2_exchange(spec, Request("GET", "/"), role="upgraded")


def test_h2_probe_keeps_a_complete_answer_the_server_then_resets() -> None:
    # RFC 9113 §8.1: RST_STREAM NO_ERROR after a complete response is allowed.
    with raw_servers.raw_server(raw_servers.h2_reset_after_answer(before_end=False)) as url:
        exchange = _prior_knowledge_get(url)
    assert exchange.failure is None
    assert exchange.response is not None
    assert (exchange.response.status, exchange.response.body) == (200, b"answered")


def test_h2_probe_reports_an_answer_cut_short_by_a_reset() -> None:
    with raw_servers.raw_server(raw_servers.h2_reset_after_answer(before_end=True)) as url:
        exchange = _prior_knowledge_get(url)
    assert exchange.response is None
    assert exchange.failure is not None
    assert exchange.failure.kind is FailureKind.CLOSED
    assert "reset the stream" in exchange.failure.message
