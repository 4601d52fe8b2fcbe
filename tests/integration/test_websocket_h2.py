"""WebSocket over HTTP/2 (RFC 8441): the websocket-over-h2 check, end to end.

Against the bundled server (hypercorn enables the extended CONNECT protocol
and routes it like the HTTP/1.1 handshake), and against the small TLS server
of tests/support/websocket_h2_server.py for what hypercorn never does: HTTP/2 without
the setting, and a server that advertises it but refuses the route or breaks
the round trip. Apache httpd (H2WebSockets) and nginx (no setting) are in the
native server matrix.
"""

from __future__ import annotations

import contextlib
import json
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest
import trustme

from pytest_upgrade import BundledCA, UpgradeServer
from pytest_upgrade.probes.endpoint import ClientTrust, Endpoint
from pytest_upgrade.probes.spec import ConnectionSpec, Request
from pytest_upgrade.probes.websocket_h2 import websocket_over_h2
from pytest_upgrade.probes.websocket_offer import WebSocketOffer
from support import hostile
from support.protocol_apps import protocol_app_source, protocol_conftest_source
from support.websocket_h2_server import websocket_h2_endpoint

TEST = """
import pytest

@pytest.mark.requires_upgrade("websocket", path="/ws")
def test_endpoint():
    pass
"""


def _checks(report: pathlib.Path) -> dict[str, dict[str, Any]]:
    (entry,) = json.loads(report.read_text())["results"]
    return {check["id"]: check for check in entry["checks"]}


def _exchange(report: pathlib.Path, role: str) -> dict[str, Any]:
    (entry,) = json.loads(report.read_text())["results"]
    (exchange,) = [e for e in entry["exchanges"] if e["role"] == role]
    return exchange


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A private CA file and a 127.0.0.1 certificate (with its key) it issued."""
    where = tmp_path_factory.mktemp("websocket-h2-certs")
    where.chmod(0o700)
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(where / "ca.pem"))
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(where / "server.pem")
    )
    return str(where / "ca.pem"), str(where / "server.pem")


@pytest.fixture
def live(certificates: tuple[str, str]) -> Iterator[Any]:
    """Start the RFC 8441 server in a mode; yields a function mode -> https URL."""
    _, server_pem = certificates
    with contextlib.ExitStack() as stack:

        def start(mode: str) -> str:
            context = hostile.server_context(server_pem)
            server = stack.enter_context(
                hostile.zoo_server(websocket_h2_endpoint(mode), tls=context)
            )
            return server.url()

        yield start


def run_live(
    pytester: pytest.Pytester, url: str, cafile: str, *args: str
) -> tuple[pytest.RunResult, pathlib.Path]:
    report = pytester.path / "report.json"
    pytester.makepyfile(test_suite=TEST)
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--upgrade-timeout=5",
        f"--upgrade-target={url}",
        f"--upgrade-ca={cafile}",
        f"--upgrade-report={report}",
        *args,
    )
    return result, report


# -- the bundled server ---------------------------------------------------------------


def test_bundled_server_opens_websocket_over_h2(pytester: pytest.Pytester) -> None:
    report = pytester.path / "report.json"
    pytester.makeconftest(protocol_conftest_source())
    pytester.makepyfile(test_suite=TEST)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--upgrade-timeout=5", f"--upgrade-report={report}"
    )
    result.assert_outcomes(passed=1)
    check = _checks(report)["websocket-over-h2"]
    assert check["outcome"] == "passed", check
    assert check["actual"] == "HTTP/2 200, Pong received"
    exchange = _exchange(report, "websocket-h2")
    assert exchange["method"] == "CONNECT"
    assert exchange["url"].startswith("wss://127.0.0.1:")
    assert exchange["alpn"] == "h2"
    assert "RFC 8441 extended CONNECT" in exchange["offered"]


def test_the_probe_sends_an_extended_connect() -> None:
    """RFC 8441 §4-5: :protocol websocket, version 13, no key and no Upgrade/Connection."""
    namespace: dict[str, Any] = {}
    exec(protocol_app_source(), namespace)
    ca = BundledCA()
    try:
        with UpgradeServer(namespace["app"], ca=ca) as server:
            exchange = websocket_over_h2(
                ConnectionSpec(Endpoint.from_url(server.https_url), ClientTrust(str(ca.ca_pem)), 5),
                Request("GET", "/ws", (("X-Trace", "1"),)),
                role="websocket-h2",
                offering=WebSocketOffer(),
            )
    finally:
        ca.close()
    assert exchange.failure is None, exchange.failure
    assert exchange.response is not None
    assert exchange.response.status == 200
    headers = dict(exchange.request_headers)
    assert headers[":method"] == "CONNECT"
    assert headers[":protocol"] == "websocket"
    assert headers[":scheme"] == "https"
    assert headers[":path"] == "/ws"
    assert headers["sec-websocket-version"] == "13"
    assert headers["x-trace"] == "1"
    assert not {"sec-websocket-key", "upgrade", "connection"} & set(headers)


def test_bundled_server_route_refused_over_h2_too(pytester: pytest.Pytester) -> None:
    """A route that refuses WebSocket refuses it over HTTP/2 too: both are findings."""
    report = pytester.path / "report.json"
    pytester.makeconftest(protocol_conftest_source(websocket={"handshake": "close"}))
    pytester.makepyfile(test_suite=TEST)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--upgrade-timeout=5", f"--upgrade-report={report}"
    )
    result.assert_outcomes(failed=1)
    checks = _checks(report)
    assert checks["upgraded-succeeds"]["outcome"] == "failed"
    assert checks["websocket-over-h2"]["outcome"] == "warned"
    assert "answered the WebSocket CONNECT with 403" in checks["websocket-over-h2"]["message"]


def test_bundled_server_without_h2_skips(pytester: pytest.Pytester) -> None:
    report = pytester.path / "report.json"
    pytester.makeconftest(
        protocol_conftest_source(server_options="{'alpn_protocols': ('http/1.1',)}")
    )
    pytester.makepyfile(test_suite=TEST)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--upgrade-timeout=5", f"--upgrade-report={report}"
    )
    result.assert_outcomes(passed=1)
    check = _checks(report)["websocket-over-h2"]
    assert check["outcome"] == "skipped"
    assert "by ALPN, not h2: WebSocket over HTTP/2 needs" in check["message"]


# -- a live target: every failure mode --------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "outcome", "message"),
    [
        pytest.param("accept", "passed", "the WebSocket stream opened with 200", id="accept"),
        pytest.param(
            "no-setting",
            "skipped",
            "the server's HTTP/2 SETTINGS do not enable the extended CONNECT protocol"
            " (SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 8441 §3)",
            id="no-setting",
        ),
        pytest.param(
            "refuse-404",
            "warned",
            "the server enables extended CONNECT but answered the WebSocket CONNECT with 404",
            id="advertised-but-404",
        ),
        pytest.param(
            "reset",
            "warned",
            "the server enables extended CONNECT but the CONNECT got no answer: reading the"
            " answer to the extended CONNECT: the server reset the stream (RST_STREAM",
            id="advertised-but-reset",
        ),
        pytest.param(
            "goaway",
            "warned",
            "the server enables extended CONNECT but the CONNECT got no answer: reading the"
            " answer to the extended CONNECT: the server sent GOAWAY",
            id="advertised-but-goaway",
        ),
        pytest.param(
            "end-stream",
            "warned",
            "the WebSocket stream was opened (200) but the round trip failed: waiting for the"
            " Pong to a Ping over the WebSocket stream: the server ended the stream",
            id="stream-ended-before-pong",
        ),
        pytest.param(
            "speaks-http1",
            "skipped",
            "no HTTP/2 SETTINGS arrived (it answered with 'HTTP/1.1 400 Bad Request'), so"
            " whether the server offers WebSocket over HTTP/2 is unknown",
            id="h2-selected-but-http11-spoken",
        ),
        pytest.param(
            "close-frame",
            "warned",
            "the WebSocket stream was opened (200) but the round trip failed: waiting for the"
            " Pong to a Ping over the WebSocket stream: the server closed the WebSocket",
            id="no-pong",
        ),
        pytest.param(
            # RFC 6455 §5.5.1: the clean Close came through the tunnel; no Pong is owed after it.
            "close-1000",
            "passed",
            "the WebSocket stream opened with 200 and the route closed the WebSocket cleanly"
            " (1000 (OK))",
            id="accept-then-close-1000",
        ),
    ],
)
def test_live_websocket_over_h2(
    pytester: pytest.Pytester,
    live: Any,
    certificates: tuple[str, str],
    mode: str,
    outcome: str,
    message: str,
) -> None:
    cafile, _ = certificates
    url = live(mode)
    result, report = run_live(pytester, url, cafile)
    result.assert_outcomes(passed=1, warnings=1 if outcome == "warned" else 0)
    checks = _checks(report)
    check = checks["websocket-over-h2"]
    assert check["outcome"] == outcome, check
    assert check["message"].startswith(message), check["message"]
    # The HTTP/1.1 handshake is judged as before, whatever HTTP/2 did.
    assert checks["upgraded-succeeds"]["outcome"] == "passed"
    if outcome == "warned":
        result.stdout.fnmatch_lines(["*PytestUpgradeWarning*websocket-over-h2*"])
        assert any(
            words in check.get("diagnosis", "")
            for words in (
                "browsers open this route over HTTP/2",
                "Ping with a Pong",
                "The route closed the WebSocket before answering the Ping",
            )
        )
        strict, _ = run_live(pytester, url, cafile, "--upgrade-strict")
        strict.assert_outcomes(failed=1)
        strict.stdout.fnmatch_lines(["*⚠ websocket-over-h2 [[]should, RFC 8441 §3-5*"])


def test_live_connect_answer_naming_an_unoffered_subprotocol(
    pytester: pytest.Pytester, live: Any, certificates: tuple[str, str]
) -> None:
    # RFC 8441 §5 with RFC 6455 §4.1: a 2xx naming a subprotocol nobody offered fails
    # the connection, as a 101 would: the round trip is refused by the client, and
    # websocket-subprotocol (must) fails on the HTTP/2 exchange.
    cafile, _ = certificates
    result, report = run_live(pytester, live("wrong-subprotocol"), cafile)
    result.assert_outcomes(failed=1, warnings=1)
    checks = _checks(report)
    assert checks["websocket-over-h2"]["outcome"] == "warned"
    assert (
        "the client refused the answer: no subprotocols supported"
        in (checks["websocket-over-h2"]["message"])
    )
    assert "see websocket-subprotocol" in checks["websocket-over-h2"]["diagnosis"]
    subprotocol = checks["websocket-subprotocol"]
    assert subprotocol["outcome"] == "failed"
    assert "over HTTP/2: the server selected the subprotocol mqtt" in subprotocol["message"]
