"""The plugin against the Python servers people deploy: uvicorn, Tornado, aiohttp, websockets.

Each serves a WebSocket echo on /ws over TLS and cleartext
(tests/support/matrix_python_app_servers.py), starts once for this module in its own
process, and is driven as a live target through ``--upgrade-target`` and
``--upgrade-ca``. The answers were first taken by hand with curl (quoted
next to each case, trimmed; Date fields dropped), with uvicorn 0.54,
Tornado 6.6, aiohttp 3.14 and websockets 17.4; then the plugin's verdict is
asserted. A library that is not installed skips its case with its name
(``pip install -e .[test]`` installs them).
"""

from __future__ import annotations

import importlib.util
import pathlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from support.expected import H2_OVER_TLS, NO_426, PROBLEM_426, TEXT_426, WEBSOCKET_UPGRADED
from support.matrix_servers import PYTHON, free_ports, outcomes, requirement_test, run_plugin, start

if TYPE_CHECKING:  # annotations only
    from support.matrix_servers import Certificates, Running

SUPPORT = pathlib.Path(__file__).parents[1] / "support"
APP_SERVERS = str(SUPPORT / "matrix_python_app_servers.py")
KINDS = ("uvicorn", "tornado", "aiohttp", "websockets")
APP = "matrix_python_app_servers:asgi_app"


def _command(kind: str, certificates: Certificates, tls: int, plain: int) -> list[str]:
    """How each server is started; the ASGI servers serve the app of APP_SERVERS."""
    if kind == "granian":
        # One listener per process: the TLS one (HTTP/1.1 and HTTP/2 by ALPN).
        return [
            *(PYTHON, "-m", "granian", "--interface", "asgi", "--http", "auto", "--ws"),
            *("--host", "127.0.0.1", "--port", str(tls), "--log-level", "warning"),
            *("--ssl-certificate", certificates.cert, "--ssl-keyfile", certificates.key, APP),
        ]
    if kind == "daphne":
        endpoint = f"ssl:{tls}:interface=127.0.0.1:privateKey={certificates.key}"
        endpoint += f":certKey={certificates.cert}"
        return [PYTHON, "-m", "daphne", "-e", endpoint, "-b", "127.0.0.1", "-p", str(plain), APP]
    return [PYTHON, APP_SERVERS, kind, certificates.cert, certificates.key, str(tls), str(plain)]


@pytest.fixture(scope="module")
def python_servers(
    tmp_path_factory: pytest.TempPathFactory, certificates: Certificates
) -> Iterator[dict[str, Running]]:
    """Every installed library's server, started together (they start in parallel)."""
    running: dict[str, Running] = {}
    try:
        for kind in (*KINDS, "granian", "daphne"):
            if importlib.util.find_spec(kind) is None:
                continue
            tls, plain = free_ports(2)
            ports = [tls] if kind == "granian" else [tls, plain]
            running[kind] = start(
                kind,
                _command(kind, certificates, tls, plain),
                tmp_path_factory.mktemp(kind),
                ports,
                env={"PYTHONPATH": str(SUPPORT)},
            )
        yield running
    finally:
        for server in running.values():
            server.stop()


def targets(servers: dict[str, Running], kind: str) -> list[str]:
    if kind not in servers:
        how = "pip install " + kind if kind in ("granian", "daphne") else "pip install -e .[test]"
        pytest.skip(f"{kind} is not installed ({how} installs it)")
    tls, *plain = servers[kind].ports
    return [f"https://127.0.0.1:{tls}", *(f"http://127.0.0.1:{port}" for port in plain)]


def verdicts(
    pytester: pytest.Pytester,
    url: list[str],
    certificates: Certificates,
    source: str,
    **counts: int,
) -> dict[str, dict[str, Any]]:
    """Each check's JSON entry of an inner run of ``source`` against ``url``, whose
    outcome counts (``passed=1``) are asserted."""
    result, checks = run_plugin(pytester, url, certificates.ca, source)
    result.assert_outcomes(**counts)
    return checks


WEBSOCKET = requirement_test("websocket", "/ws")

# No WebSocket over HTTP/2 (RFC 8441): the server does not select h2 by ALPN, or
# its HTTP/2 SETTINGS do not enable the extended CONNECT protocol.
NO_WEBSOCKET_OVER_H2 = {"websocket-over-h2": "skipped"}

# The version-99 probe's message when the server switched protocols to it.
VERSION_SWITCHED = ("websocket-version", "message", "switched protocols")


@dataclass(frozen=True)
class Library:
    """What a library's /ws answers, beyond the 101s every one of them gives."""

    kind: str
    plain_get: dict[str, str]  # the checks of the answer to a plain GET
    version: str  # websocket-version's outcome (the refusal of version 99)
    version_actual: str | None = None  # that refusal, as the report gives it
    says: tuple[tuple[str, str, str], ...] = ()  # (check, field, a text in it)
    never_says: tuple[tuple[str, str, str], ...] = ()


NO_VERSIONS = "HTTP/1.1 400 Bad Request, Sec-WebSocket-Version: (none)"

LIBRARIES = [
    # An ASGI app answers plain HTTP on /ws with a 426 (uvicorn passes it on):
    # $ curl -si --http1.1 https://127.0.0.1:TLS/ws
    #   HTTP/1.1 426 Upgrade Required, server: uvicorn, upgrade: websocket,
    #   connection: Upgrade, content-type: application/problem+json, chunked
    # handshake (version 13) -> 101, Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
    # version 99 -> uvicorn's own (websockets-based) answer, before the app:
    #   HTTP/1.1 400 Bad Request, Connection: close, no Server, no Sec-WebSocket-Version,
    #   "Failed to open a WebSocket connection: invalid Sec-WebSocket-Version header: 99."
    # version 8  -> the same 400
    # RFC 6455 §4.2.2: the refusal MUST list the supported versions.
    Library("uvicorn", PROBLEM_426, "failed", NO_VERSIONS),
    # $ curl -si --http1.1 https://127.0.0.1:TLS/ws
    #   HTTP/1.1 400 Bad Request, Server: TornadoServer/6.6.1,
    #   text/html 'Can "Upgrade" only to "WebSocket".'
    # handshake -> 101, Upgrade: websocket, Connection: Upgrade, Sec-Websocket-Accept
    # version 99 -> HTTP/1.1 426 Upgrade Required, Sec-Websocket-Version: 13, empty body
    #               (no Upgrade field on that 426)
    # version 8  -> the same 426
    # A plain GET gets 400, not 426. The versions are listed (RFC 6455 §4.2.2), but
    # a 426 MUST carry Upgrade (RFC 9110 §15.5.22): a should-level finding.
    Library(
        "tornado",
        NO_426,
        "warned",
        "HTTP/1.1 426 Upgrade Required, Sec-WebSocket-Version: 13, Upgrade: (none)",
        says=(("status-426", "diagnosis", "WebSocket endpoint received a plain GET"),),
    ),
    # $ curl -si --http1.1 https://127.0.0.1:TLS/ws
    #   HTTP/1.1 400 Bad Request, Server: Python/3.11 aiohttp/3.14.5,
    #   'No WebSocket UPGRADE hdr: None\n Can "Upgrade" only to "WebSocket".'
    # handshake, version 13 -> 101, Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
    # version 8 -> 101 (aiohttp accepts 13, 8 and 7, as RFC 6455 §4.4 allows):
    #   the probe's old version 8 made this a false failure (issue 12)
    # version 99 -> HTTP/1.1 400 Bad Request, "Unsupported version: 99",
    #   no Sec-WebSocket-Version: the refusal RFC 6455 §4.2.2 requires lists them
    # Not penalised for accepting draft versions: 99 is refused, not accepted.
    Library("aiohttp", NO_426, "failed", NO_VERSIONS, never_says=(VERSION_SWITCHED,)),
    # $ curl -si --http1.1 https://127.0.0.1:TLS/ws
    #   HTTP/1.1 426 Upgrade Required, Connection: close, Upgrade: websocket,
    #   Server: Python/3.11 websockets/17.4, text/plain "... missing Connection header. ..."
    # handshake -> 101, Upgrade: websocket, Connection: Upgrade, Sec-WebSocket-Accept
    # version 99 -> HTTP/1.1 400 Bad Request, Connection: close, no Sec-WebSocket-Version,
    #   "invalid Sec-WebSocket-Version header: 99."
    Library("websockets", {**TEXT_426, "connection-upgrade": "failed"}, "failed"),
]


@pytest.mark.parametrize("library", LIBRARIES, ids=lambda library: library.kind)
def test_websocket_library(
    pytester: pytest.Pytester,
    python_servers: dict[str, Running],
    certificates: Certificates,
    library: Library,
) -> None:
    url = targets(python_servers, library.kind)
    checks = verdicts(pytester, url, certificates, WEBSOCKET, failed=1)
    assert outcomes(checks) == {
        **library.plain_get,
        "upgrade-unswitchable": "passed",
        **WEBSOCKET_UPGRADED,
        **NO_WEBSOCKET_OVER_H2,
        "websocket-version": library.version,
    }
    if library.version_actual is not None:
        assert checks["websocket-version"]["actual"] == library.version_actual
    for check, field, text in library.says:
        assert text in checks[check][field]
    for check, field, text in library.never_says:
        assert text not in checks[check][field]


# -- optional: the servers below are not in the test extra -----------------------------


H2 = requirement_test("h2", "/v2/orders")

H2_ALL_PASS = {**PROBLEM_426, **H2_OVER_TLS}


def test_granian(
    pytester: pytest.Pytester, python_servers: dict[str, Running], certificates: Certificates
) -> None:
    # granian 2.8 (Rust, rustls), --http auto, serving the ASGI app:
    # $ curl -si --http1.1 https://127.0.0.1:TLS/v2/orders
    #   HTTP/1.1 426 Upgrade Required, upgrade: HTTP/2.0, connection: Upgrade,
    #   content-type: application/problem+json, server: granian
    # $ curl -si --http2 ... -> HTTP/2 200, content-type, server, date, content-length
    # $ openssl s_client -tls1_1 ... -> "sslv3 alert handshake failure" (alert 40)
    # /ws: plain GET -> the app's 426; handshake -> 101, sec-websocket-accept
    # version 99 and 8 -> HTTP/1.1 400 Bad Request, 'No "Sec-WebSocket-Version: 13" header',
    #   no Sec-WebSocket-Version field
    url = targets(python_servers, "granian")
    checks = verdicts(pytester, url, certificates, H2, passed=1)
    assert outcomes(checks) == H2_ALL_PASS
    assert "handshake_failure" in checks["tls-legacy-refused"]["actual"]

    checks = verdicts(pytester, url, certificates, WEBSOCKET, failed=1)
    assert {c for c, outcome in outcomes(checks).items() if outcome != "passed"} == {
        "websocket-version",
        "websocket-over-h2",  # skipped: its HTTP/2 SETTINGS do not enable extended CONNECT
    }
    assert "do not enable the extended CONNECT" in checks["websocket-over-h2"]["message"]


def test_daphne_accepts_draft_8_and_lists_its_versions(
    pytester: pytest.Pytester, python_servers: dict[str, Running], certificates: Certificates
) -> None:
    # daphne 4.2 (Twisted, autobahn), HTTP/2 enabled, serving the ASGI app:
    # $ curl -si --http1.1 https://127.0.0.1:TLS/ws
    #   HTTP/1.1 426 Unknown Status   <- Twisted has no reason phrase for 426
    #   Upgrade: websocket, Connection: Upgrade, application/problem+json, Server: daphne
    # handshake -> 101, Upgrade: WebSocket, Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
    # version 8  -> 101 (autobahn accepts 13 and 8): the old probe's false failure
    # version 99 -> HTTP/1.1 400 WebSocket version 99 not supported (supported versions:
    #   13,8), Sec-WebSocket-Version: 13,8
    # $ curl --http2 /v2/orders -> HTTP/2 200; --http1.1 -> 426, Upgrade: HTTP/2.0
    # $ openssl s_client -tls1 ... -> tlsv1 alert protocol version
    url = targets(python_servers, "daphne")
    checks = verdicts(pytester, url, certificates, WEBSOCKET, passed=1)
    assert outcomes(checks) == {
        **PROBLEM_426,
        "upgrade-unswitchable": "passed",
        **WEBSOCKET_UPGRADED,
        **NO_WEBSOCKET_OVER_H2,
        "websocket-version": "passed",
    }
    assert checks["websocket-version"]["actual"].endswith("Sec-WebSocket-Version: 13, 8")

    assert outcomes(verdicts(pytester, url[:1], certificates, H2, passed=1)) == H2_ALL_PASS
