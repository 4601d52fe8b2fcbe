"""WebSocket verdicts on endpoints built the way real frameworks build them.

aiohttp with an authentication middleware and ``compress=True``, Django
Channels (``AllowedHostsOriginValidator``) served by daphne, Node's ``ws``
behind an authenticating ``'upgrade'`` handler, and the websockets library
serving a subprotocol. Each runs in its own process on loopback
(``websocket_framework_servers.py``, ``channels_app.py``, ``node_ws_server.js``);
the plugin runs against it as a user's suite would (``--upgrade-target``), and
each verdict is explained from what the server answered (RFC 6455, RFC 7692,
RFC 8441, RFC 9110).
"""

from __future__ import annotations

import importlib.util
import pathlib
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from support.check_fields import expect
from support.matrix_servers import (
    PYTHON,
    Certificates,
    Running,
    free_ports,
    outcomes,
    run_plugin,
    start,
)
from support.websocket_suites import deflate_echo

TESTS = pathlib.Path(__file__).parent.parent
SUPPORT = TESTS / "support"
SERVERS = str(SUPPORT / "websocket_framework_servers.py")
# .ci/run installs Node's ws here (npm install --prefix .venvs/node ws@8).
NODE_MODULES = TESTS.parent / ".venvs" / "node" / "node_modules"


def marked(path: str, **options: object) -> str:
    extra = "".join(f", {name}={value!r}" for name, value in options.items())
    return f"""
import pytest

@pytest.mark.requires_upgrade("websocket", path={path!r}{extra})
def test_endpoint(upgrade):
    upgrade.websocket.send("ping")
    assert upgrade.websocket.recv(timeout=5) == "ping"
"""


@dataclass(frozen=True)
class Served:
    """A server's two URLs (TLS, cleartext), and inner runs of the plugin against them."""

    pytester: pytest.Pytester
    urls: list[str]
    ca: str

    def run(self, source: str, *options: str, **counts: int) -> dict[str, dict[str, Any]]:
        """Each check's JSON entry; the run's outcome counts (``passed=1``), if given,
        are asserted."""
        result, checks = run_plugin(self.pytester, self.urls, self.ca, source, *options)
        if counts:
            result.assert_outcomes(**counts)
        return checks


Serve = Callable[..., Served]


@pytest.fixture
def serve(
    tmp_path: pathlib.Path, pytester: pytest.Pytester, certificates: Certificates
) -> Iterator[Serve]:
    """``serve(name, argv, [tls, plain], env=None)``: starts a server (stopped at the
    test's end) listening on those two ports, as a ``Served``."""
    running: list[Running] = []

    def served(
        name: str, argv: list[str], ports: list[int], env: dict[str, str] | None = None
    ) -> Served:
        tls, plain = ports
        running.append(start(name, argv, tmp_path / name, ports, env=env))
        urls = [f"https://127.0.0.1:{tls}", f"http://127.0.0.1:{plain}"]
        return Served(pytester, urls, certificates.ca)

    try:
        yield served
    finally:
        for server in running:
            server.stop()


def _needs(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install -e .[test] installs it)")


@pytest.fixture
def aiohttp_server(serve: Serve, certificates: Certificates) -> Served:
    _needs("aiohttp")
    ports = free_ports(2)
    argv = [PYTHON, SERVERS, "aiohttp", certificates.cert, certificates.key, *map(str, ports)]
    return serve("aiohttp", argv, ports)


@pytest.fixture
def graphql_server(serve: Serve, certificates: Certificates) -> Served:
    ports = free_ports(2)
    argv = [PYTHON, SERVERS, "websockets-graphql", certificates.cert, certificates.key]
    return serve("websockets-graphql", [*argv, *map(str, ports)], ports)


@pytest.fixture
def daphne_server(serve: Serve, certificates: Certificates) -> Served:
    _needs("channels")
    _needs("daphne")
    tls, plain = free_ports(2)
    endpoint = f"ssl:{tls}:interface=127.0.0.1:privateKey={certificates.key}"
    endpoint += f":certKey={certificates.cert}"
    argv = [PYTHON, "-m", "daphne", "-e", endpoint, "-b", "127.0.0.1", "-p", str(plain)]
    argv.append("channels_app:application")
    return serve("daphne", argv, [tls, plain], env={"PYTHONPATH": str(SUPPORT)})


@pytest.fixture
def node_ws_server(serve: Serve, certificates: Certificates) -> Served:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (apt install nodejs)")
    if not (NODE_MODULES / "ws").is_dir():
        pytest.skip(f"Node's ws package is not in {NODE_MODULES} (.ci/run installs it with npm)")
    ports = free_ports(2)
    argv = [node, str(SUPPORT / "node_ws_server.js"), certificates.cert, certificates.key]
    argv += map(str, ports)
    return serve(
        "node-ws",
        argv,
        ports,
        env={"NODE_PATH": str(NODE_MODULES)},
    )


# -- aiohttp: authentication in front, permessage-deflate ------------------------------


def test_aiohttp_auth_refusal_is_not_blamed_on_a_proxy(aiohttp_server: Served) -> None:
    # $ curl -si https://127.0.0.1:TLS/private/ws (plain, or with the handshake's fields)
    #   HTTP/1.1 401 Unauthorized, Server: Python/3.11 aiohttp/3.14, {"detail": "Not authenticated"}
    # The middleware answers before routing, so both requests get the same 401:
    # it says nothing about whether Upgrade arrived (RFC 9110 §7.6.1).
    checks = aiohttp_server.run(marked("/private/ws"), failed=1)
    expect(
        checks["upgrade-stripped"],
        "skipped",
        message=("the same HTTP/1.1 401 Unauthorized", "decided before routing"),
        not_diagnosis=("nginx",),
    )
    expect(checks["upgraded-succeeds"], "failed", diagnosis=("headers={'Authorization'",))
    assert checks["websocket-version"]["outcome"] == "skipped"

    # With the credentials the endpoint passes the upgrade checks.
    source = marked("/private/ws", headers={"Authorization": "Bearer t"})
    checks = aiohttp_server.run(source)
    assert checks["upgrade-stripped"]["outcome"] == "passed"
    assert checks["upgraded-protocol"]["outcome"] == "passed"


def test_aiohttp_accepting_permessage_deflate_passes(aiohttp_server: Served) -> None:
    # WebSocketResponse(compress=True) accepts the offer (RFC 7692 §5):
    #   101, Sec-WebSocket-Extensions: permessage-deflate
    # The probes' client made the offer, so it negotiates it; the test body's
    # client too (its echo is compressed both ways).
    source = deflate_echo("/ws")
    # aiohttp accepts drafts 7/8 and answers 99 without the version list (the
    # matrix's verdict): skipped here so that the test body runs.
    checks = aiohttp_server.run(source, "--upgrade-skip-checks=websocket-version", passed=1)
    found = {c: o for c, o in outcomes(checks).items() if o != "passed"}
    assert found == {
        "upgrade-unswitchable": "skipped",  # only the 426 and the 101s
        "websocket-over-h2": "skipped",  # aiohttp speaks no HTTP/2
    }


def test_an_extension_the_client_cannot_negotiate_is_refused_at_collection(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_suite=marked("/ws", headers={"Sec-WebSocket-Extensions": "x-webkit-deflate-frame"})
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--upgrade-target=http://127.0.0.1:9")
    assert result.ret != 0
    result.stderr.fnmatch_lines(
        [
            "ERROR: invalid @pytest.mark.requires_upgrade:",
            "*test_endpoint: Sec-WebSocket-Extensions offers 'x-webkit-deflate-frame'*only"
            " permessage-deflate (RFC 7692)*",
        ]
    )
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


# -- Django Channels under daphne: AllowedHostsOriginValidator ---------------------------


def test_channels_origin_validator_accepts_the_default_origin(daphne_server: Served) -> None:
    # The probes send Origin: https://127.0.0.1:TLS (http:// on the ws:// one); its
    # host is in ALLOWED_HOSTS, so the validator lets the handshake through.
    checks = daphne_server.run(marked("/ws"), passed=1)
    assert checks["upgraded-succeeds"]["outcome"] == "passed"
    assert checks["websocket-version"]["outcome"] == "passed"  # 400, Sec-WebSocket-Version: 13,8


def test_channels_without_origin_gets_an_origin_diagnosis(daphne_server: Served) -> None:
    # origin=False: no Origin, and the validator refuses: daphne's 403 "Access denied".
    source = marked("/ws", origin=False)
    checks = daphne_server.run(source, failed=1)
    expect(
        checks["upgraded-succeeds"],
        message=("answered with 403",),
        diagnosis=("Origin check", "AllowedHostsOriginValidator"),
    )

    # An Origin the validator does not allow, given in headers=: the same 403.
    source = marked("/ws", headers={"Origin": "https://evil.example"})
    checks = daphne_server.run(source)
    assert checks["upgraded-succeeds"]["outcome"] == "failed"


# -- Node's ws: an authenticating 'upgrade' handler, HTTP/1.1-only TLS ---------------------


def test_node_ws_echo_passes_and_rfc8441_is_skipped(node_ws_server: Served) -> None:
    # https.createServer speaks HTTP/1.1 only: an ALPN offer of h2 alone gets the
    # no_application_protocol alert (RFC 7301 §3.2), so no HTTP/2 was spoken.
    checks = node_ws_server.run(marked("/ws"), passed=1)
    no_http2 = ("no_application_protocol", "speaks no HTTP/2")
    expect(checks["websocket-over-h2"], "skipped", message=no_http2)
    # ws answers version 99 with 400 and Sec-WebSocket-Version: 13, 8.
    assert checks["websocket-version"]["outcome"] == "passed"


def test_node_ws_refusal_without_origin_skips_the_version_check(node_ws_server: Served) -> None:
    # The 'upgrade' handler refuses any handshake without Origin with 403 before
    # ws reads Sec-WebSocket-Version: the version-99 refusal is that same 403.
    source = marked("/origin", origin=False)
    checks = node_ws_server.run(source, failed=1)
    refused_alike = "the proper version-13 handshake was refused the same way"
    expect(checks["websocket-version"], "skipped", message=(refused_alike,))
    assert "Origin check" in checks["upgraded-succeeds"]["diagnosis"]

    # With the default Origin the same route passes.
    node_ws_server.run(marked("/origin"), passed=1)


def test_node_ws_destroying_the_socket_is_said_plainly(node_ws_server: Served) -> None:
    checks = node_ws_server.run(marked("/destroy"), failed=1)
    report = "\n".join(str(check) for check in checks.values())
    assert "role=SERVER" not in report
    assert "SEND_RESPONSE" not in report
    assert "the server closed the connection without" in checks["websocket-version"]["message"]
    assert "closed the connection without answering" in checks["upgraded-succeeds"]["message"]


# -- the websockets library serving a subprotocol ------------------------------------------


GRAPHQL_BODY = """
import pytest

@pytest.mark.requires_upgrade(
    "websocket", path="/graphql", headers={"Sec-WebSocket-Protocol": "graphql-transport-ws"}
)
def test_endpoint(upgrade):
    assert upgrade.websocket.subprotocol == "graphql-transport-ws"
    upgrade.websocket.send("ping")
    assert upgrade.websocket.recv(timeout=5) == "ping"
"""


def test_websockets_serving_a_subprotocol(graphql_server: Served) -> None:
    # serve(..., subprotocols=["graphql-transport-ws"]): a 101 naming it, to the offer.
    # The library's two violations of the matrix (its 426 has Connection: close,
    # version 99 gets no version list) are skipped so that the test body runs.
    skip = "--upgrade-skip-checks=connection-upgrade,websocket-version"
    args = (GRAPHQL_BODY, skip)
    checks = graphql_server.run(*args, passed=1)
    assert checks["upgraded-protocol"]["outcome"] == "passed"
    expect(checks["websocket-subprotocol"], "passed", message=("selected graphql-transport-ws",))
    assert {c for c, o in outcomes(checks).items() if o == "failed"} == set()


def test_websockets_refuses_a_handshake_without_its_subprotocol(graphql_server: Served) -> None:
    # No offer: websockets answers 400 "... missing subprotocol".
    checks = graphql_server.run(marked("/graphql"), failed=1)
    expect(
        checks["upgraded-succeeds"],
        message=("answered with 400",),
        diagnosis=("subprotocols=[...]",),
    )


# -- python-socketio under the bundled server ----------------------------------------------

SOCKETIO_CONFTEST = """
import pytest
import socketio

app = socketio.ASGIApp(socketio.AsyncServer(async_mode="asgi"))


@pytest.fixture(scope="session")
def upgrade_app():
    return app
"""


def test_socketio_refusing_rfc8441_is_explained(pytester: pytest.Pytester) -> None:
    # Engine.IO checks for Upgrade: websocket, which RFC 8441 §5 forbids over
    # HTTP/2, so it refuses the extended CONNECT the bundled server always enables.
    # (It also compares Origin with http://host, whatever the TLS, unless a proxy
    # sends X-Forwarded-Proto: over wss:// the default Origin gets its 403.)
    _needs("socketio")
    pytester.makeconftest(SOCKETIO_CONFTEST)
    source = """
import pytest

@pytest.mark.requires_upgrade(
    "websocket", path="/socket.io/?EIO=4&transport=websocket", origin=False
)
def test_endpoint(upgrade):
    pass
"""
    result, checks = run_plugin(pytester, [], None, source)
    result.assert_outcomes(failed=1)  # Engine.IO answers a plain GET with 400, not 426
    assert checks["upgraded-succeeds"]["outcome"] == "passed"
    expect(
        checks["websocket-over-h2"],
        "warned",
        diagnosis=("RFC 8441 §5 forbids Upgrade", "Engine.IO"),
        not_diagnosis=("Apache",),
    )
