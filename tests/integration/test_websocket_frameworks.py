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
from collections.abc import Iterator

import pytest

from support.matrix_servers import (
    PYTHON,
    Certificates,
    Running,
    free_ports,
    outcomes,
    run_plugin,
    start,
)

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


def _serve(
    tmp_path: pathlib.Path,
    name: str,
    argv: list[str],
    ports: list[int],
    env: dict[str, str] | None = None,
) -> Iterator[list[str]]:
    tls, plain = ports
    running: Running = start(name, argv, tmp_path / name, ports, env=env)
    try:
        yield [f"https://127.0.0.1:{tls}", f"http://127.0.0.1:{plain}"]
    finally:
        running.stop()


def _needs(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install -e .[test] installs it)")


@pytest.fixture
def aiohttp_server(tmp_path: pathlib.Path, certificates: Certificates) -> Iterator[list[str]]:
    _needs("aiohttp")
    ports = free_ports(2)
    argv = [PYTHON, SERVERS, "aiohttp", certificates.cert, certificates.key, *map(str, ports)]
    yield from _serve(tmp_path, "aiohttp", argv, ports)


@pytest.fixture
def graphql_server(tmp_path: pathlib.Path, certificates: Certificates) -> Iterator[list[str]]:
    ports = free_ports(2)
    argv = [PYTHON, SERVERS, "websockets-graphql", certificates.cert, certificates.key]
    yield from _serve(tmp_path, "websockets-graphql", [*argv, *map(str, ports)], ports)


@pytest.fixture
def daphne_server(tmp_path: pathlib.Path, certificates: Certificates) -> Iterator[list[str]]:
    _needs("channels")
    _needs("daphne")
    tls, plain = free_ports(2)
    endpoint = f"ssl:{tls}:interface=127.0.0.1:privateKey={certificates.key}"
    endpoint += f":certKey={certificates.cert}"
    argv = [PYTHON, "-m", "daphne", "-e", endpoint, "-b", "127.0.0.1", "-p", str(plain)]
    argv.append("channels_app:application")
    yield from _serve(tmp_path, "daphne", argv, [tls, plain], env={"PYTHONPATH": str(SUPPORT)})


@pytest.fixture
def node_ws_server(tmp_path: pathlib.Path, certificates: Certificates) -> Iterator[list[str]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (apt install nodejs)")
    if not (NODE_MODULES / "ws").is_dir():
        pytest.skip(f"Node's ws package is not in {NODE_MODULES} (.ci/run installs it with npm)")
    ports = free_ports(2)
    argv = [node, str(SUPPORT / "node_ws_server.js"), certificates.cert, certificates.key]
    argv += map(str, ports)
    yield from _serve(tmp_path, "node-ws", argv, ports, env={"NODE_PATH": str(NODE_MODULES)})


# -- aiohttp: authentication in front, permessage-deflate ------------------------------


def test_aiohttp_auth_refusal_is_not_blamed_on_a_proxy(
    pytester: pytest.Pytester, aiohttp_server: list[str], certificates: Certificates
) -> None:
    # $ curl -si https://127.0.0.1:TLS/private/ws (plain, or with the handshake's fields)
    #   HTTP/1.1 401 Unauthorized, Server: Python/3.11 aiohttp/3.14, {"detail": "Not authenticated"}
    # The middleware answers before routing, so both requests get the same 401:
    # it says nothing about whether Upgrade arrived (RFC 9110 §7.6.1).
    result, checks = run_plugin(pytester, aiohttp_server, certificates.ca, marked("/private/ws"))
    result.assert_outcomes(failed=1)
    stripped = checks["upgrade-stripped"]
    assert stripped["outcome"] == "skipped"
    assert "the same HTTP/1.1 401 Unauthorized" in stripped["message"]
    assert "decided before routing" in stripped["message"]
    assert "nginx" not in stripped.get("diagnosis", "")
    succeeds = checks["upgraded-succeeds"]
    assert succeeds["outcome"] == "failed"
    assert "headers={'Authorization'" in succeeds["diagnosis"]
    assert checks["websocket-version"]["outcome"] == "skipped"

    # With the credentials the endpoint passes the upgrade checks.
    source = marked("/private/ws", headers={"Authorization": "Bearer t"})
    result, checks = run_plugin(pytester, aiohttp_server, certificates.ca, source)
    assert checks["upgrade-stripped"]["outcome"] == "passed"
    assert checks["upgraded-protocol"]["outcome"] == "passed"


def test_aiohttp_accepting_permessage_deflate_passes(
    pytester: pytest.Pytester, aiohttp_server: list[str], certificates: Certificates
) -> None:
    # WebSocketResponse(compress=True) accepts the offer (RFC 7692 §5):
    #   101, Sec-WebSocket-Extensions: permessage-deflate
    # The probes' client made the offer, so it negotiates it; the test body's
    # client too (its echo is compressed both ways).
    source = DEFLATE_BODY
    # aiohttp accepts drafts 7/8 and answers 99 without the version list (the
    # matrix's verdict): skipped here so that the test body runs.
    result, checks = run_plugin(
        pytester, aiohttp_server, certificates.ca, source, "--upgrade-skip-checks=websocket-version"
    )
    result.assert_outcomes(passed=1)
    found = {c: o for c, o in outcomes(checks).items() if o != "passed"}
    assert found == {
        "upgrade-unswitchable": "skipped",  # only the 426 and the 101s
        "websocket-over-h2": "skipped",  # aiohttp speaks no HTTP/2
    }


DEFLATE_BODY = """
import pytest

@pytest.mark.requires_upgrade(
    "websocket", path="/ws", headers={"Sec-WebSocket-Extensions": "permessage-deflate"}
)
def test_endpoint(upgrade):
    negotiated = [extension.name for extension in upgrade.websocket.protocol.extensions]
    assert negotiated == ["permessage-deflate"]
    upgrade.websocket.send("ping" * 100)
    assert upgrade.websocket.recv(timeout=5) == "ping" * 100
"""


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


def test_channels_origin_validator_accepts_the_default_origin(
    pytester: pytest.Pytester, daphne_server: list[str], certificates: Certificates
) -> None:
    # The probes send Origin: https://127.0.0.1:TLS (http:// on the ws:// one); its
    # host is in ALLOWED_HOSTS, so the validator lets the handshake through.
    result, checks = run_plugin(pytester, daphne_server, certificates.ca, marked("/ws"))
    result.assert_outcomes(passed=1)
    assert checks["upgraded-succeeds"]["outcome"] == "passed"
    assert checks["websocket-version"]["outcome"] == "passed"  # 400, Sec-WebSocket-Version: 13,8


def test_channels_without_origin_gets_an_origin_diagnosis(
    pytester: pytest.Pytester, daphne_server: list[str], certificates: Certificates
) -> None:
    # origin=False: no Origin, and the validator refuses: daphne's 403 "Access denied".
    source = marked("/ws", origin=False)
    result, checks = run_plugin(pytester, daphne_server, certificates.ca, source)
    result.assert_outcomes(failed=1)
    succeeds = checks["upgraded-succeeds"]
    assert "answered with 403" in succeeds["message"]
    assert "Origin check" in succeeds["diagnosis"]
    assert "AllowedHostsOriginValidator" in succeeds["diagnosis"]

    # An Origin the validator does not allow, given in headers=: the same 403.
    source = marked("/ws", headers={"Origin": "https://evil.example"})
    result, checks = run_plugin(pytester, daphne_server, certificates.ca, source)
    assert checks["upgraded-succeeds"]["outcome"] == "failed"


# -- Node's ws: an authenticating 'upgrade' handler, HTTP/1.1-only TLS ---------------------


def test_node_ws_echo_passes_and_rfc8441_is_skipped(
    pytester: pytest.Pytester, node_ws_server: list[str], certificates: Certificates
) -> None:
    # https.createServer speaks HTTP/1.1 only: an ALPN offer of h2 alone gets the
    # no_application_protocol alert (RFC 7301 §3.2), so no HTTP/2 was spoken.
    result, checks = run_plugin(pytester, node_ws_server, certificates.ca, marked("/ws"))
    result.assert_outcomes(passed=1)
    h2 = checks["websocket-over-h2"]
    assert h2["outcome"] == "skipped"
    assert "no_application_protocol" in h2["message"]
    assert "speaks no HTTP/2" in h2["message"]
    # ws answers version 99 with 400 and Sec-WebSocket-Version: 13, 8.
    assert checks["websocket-version"]["outcome"] == "passed"


def test_node_ws_refusal_without_origin_skips_the_version_check(
    pytester: pytest.Pytester, node_ws_server: list[str], certificates: Certificates
) -> None:
    # The 'upgrade' handler refuses any handshake without Origin with 403 before
    # ws reads Sec-WebSocket-Version: the version-99 refusal is that same 403.
    source = marked("/origin", origin=False)
    result, checks = run_plugin(pytester, node_ws_server, certificates.ca, source)
    result.assert_outcomes(failed=1)
    version = checks["websocket-version"]
    assert version["outcome"] == "skipped"
    assert "the proper version-13 handshake was refused the same way" in version["message"]
    assert "Origin check" in checks["upgraded-succeeds"]["diagnosis"]

    # With the default Origin the same route passes.
    result, checks = run_plugin(pytester, node_ws_server, certificates.ca, marked("/origin"))
    result.assert_outcomes(passed=1)


def test_node_ws_destroying_the_socket_is_said_plainly(
    pytester: pytest.Pytester, node_ws_server: list[str], certificates: Certificates
) -> None:
    result, checks = run_plugin(pytester, node_ws_server, certificates.ca, marked("/destroy"))
    result.assert_outcomes(failed=1)
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


def test_websockets_serving_a_subprotocol(
    pytester: pytest.Pytester, graphql_server: list[str], certificates: Certificates
) -> None:
    # serve(..., subprotocols=["graphql-transport-ws"]): a 101 naming it, to the offer.
    # The library's two violations of the matrix (its 426 has Connection: close,
    # version 99 gets no version list) are skipped so that the test body runs.
    skip = "--upgrade-skip-checks=connection-upgrade,websocket-version"
    args = (GRAPHQL_BODY, skip)
    result, checks = run_plugin(pytester, graphql_server, certificates.ca, *args)
    result.assert_outcomes(passed=1)
    assert checks["upgraded-protocol"]["outcome"] == "passed"
    assert checks["websocket-subprotocol"]["outcome"] == "passed"
    assert "selected graphql-transport-ws" in checks["websocket-subprotocol"]["message"]
    assert {c for c, o in outcomes(checks).items() if o == "failed"} == set()


def test_websockets_refuses_a_handshake_without_its_subprotocol(
    pytester: pytest.Pytester, graphql_server: list[str], certificates: Certificates
) -> None:
    # No offer: websockets answers 400 "... missing subprotocol".
    result, checks = run_plugin(pytester, graphql_server, certificates.ca, marked("/graphql"))
    result.assert_outcomes(failed=1)
    succeeds = checks["upgraded-succeeds"]
    assert "answered with 400" in succeeds["message"]
    assert "subprotocols=[...]" in succeeds["diagnosis"]


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
    h2 = checks["websocket-over-h2"]
    assert h2["outcome"] == "warned"
    assert "RFC 8441 §5 forbids Upgrade" in h2["diagnosis"]
    assert "Engine.IO" in h2["diagnosis"]
    assert "Apache" not in h2["diagnosis"]
