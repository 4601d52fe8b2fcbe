"""The plugin against real servers the project did not write, started on loopback.

1. The ``websockets`` library's own server (``websockets.asyncio.server.serve``),
   TLS and cleartext, serving an echo handler on every path. Nothing of ours
   answers: every response is the library's, so every verdict below is a
   statement about websockets 17, explained from its source
   (``websockets/server.py``: ``ServerProtocol.accept``, ``process_request``
   and ``reject``).
2. Node.js's own HTTP/2 server (``http2.createSecureServer`` with
   ``allowHTTP1``), a handler of a dozen lines answering HTTP/1.1 with a 426
   as the README asks. The handler is ours; ALPN, the TLS versions accepted,
   the framing and the fields the server adds or drops are Node's.

Each server runs in its own process, on sockets bound here (inherited with
``pass_fds``), so the ports are known before it starts; it reports readiness
on stdout, waited for with a deadline, and is terminated and waited for by
the fixture's finaliser.
"""

from __future__ import annotations

import json
import os
import pathlib
import select
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import trustme

from support.expected import PROBLEM_426
from support.matrix_servers import stop

START_TIMEOUT = 20.0

# -- starting and stopping third-party servers ---------------------------------


@dataclass
class ThirdPartyServer:
    https_url: str
    http_url: str | None
    cafile: str


def _wait_ready(process: subprocess.Popen[bytes], stderr: pathlib.Path, name: str) -> None:
    """Wait, at most START_TIMEOUT seconds, for the server's 'ready' line on stdout."""
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    received = b""
    while b"\n" not in received:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RuntimeError(f"{name} did not report ready within {START_TIMEOUT:g} s")
        readable, _, _ = select.select([process.stdout], [], [], remaining)
        if not readable:
            continue
        chunk = os.read(process.stdout.fileno(), 4096)
        if not chunk:  # stdout closed: the server exited
            process.wait(timeout=START_TIMEOUT)
            raise RuntimeError(
                f"{name} exited with {process.returncode} before it was ready:"
                f" {stderr.read_text(errors='replace')}"
            )
        received += chunk
    if not received.startswith(b"ready"):
        raise RuntimeError(f"{name} printed {received!r} instead of 'ready'")


def _stop(process: subprocess.Popen[bytes]) -> None:
    stop(process)
    if process.stdout is not None:
        process.stdout.close()


@pytest.fixture
def start_server(tmp_path: pathlib.Path) -> Iterator[Callable[..., ThirdPartyServer]]:
    """Start ``command`` (which serves on the inherited sockets) and wait until it is ready.

    ``command`` is called with the certificate chain's path and the file
    descriptors of a TLS and, if ``cleartext``, a cleartext listening socket
    on 127.0.0.1; the server prints ``ready`` when it accepts connections.
    """
    processes: list[subprocess.Popen[bytes]] = []

    def start(
        name: str, command: Callable[[str, int, int | None], list[str]], *, cleartext: bool
    ) -> ThirdPartyServer:
        workdir = tmp_path / f"server{len(processes)}"
        workdir.mkdir()
        ca = trustme.CA()
        ca.cert_pem.write_to_path(str(workdir / "ca.pem"))
        ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
            str(workdir / "server.pem")
        )
        sockets = [socket.create_server(("127.0.0.1", 0))]
        if cleartext:
            sockets.append(socket.create_server(("127.0.0.1", 0)))
        stderr_path = workdir / "stderr.txt"
        try:
            fds = [s.fileno() for s in sockets]
            with stderr_path.open("wb") as stderr:
                process = subprocess.Popen(
                    command(str(workdir / "server.pem"), fds[0], fds[1] if cleartext else None),
                    cwd=workdir,
                    pass_fds=fds,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                )
            processes.append(process)
            ports = [s.getsockname()[1] for s in sockets]
        finally:
            # The child holds its own copies; once it is gone, connecting is refused
            # instead of hanging in a backlog nobody accepts from.
            for sock in sockets:
                sock.close()
        _wait_ready(process, stderr_path, name)
        return ThirdPartyServer(
            https_url=f"https://127.0.0.1:{ports[0]}",
            http_url=f"http://127.0.0.1:{ports[1]}" if cleartext else None,
            cafile=str(workdir / "ca.pem"),
        )

    yield start
    for process in processes:
        _stop(process)


def _run_plugin(
    pytester: pytest.Pytester,
    server: ThirdPartyServer,
    test_source: str,
    *,
    verdict: str,
    line: str,
) -> tuple[pytest.RunResult, dict[str, Any], dict[str, dict[str, Any]]]:
    """Run a marked suite against ``server``; the result, its one JSON report entry and
    that entry's checks by id.

    The one marked test's outcome and its report entry's outcome and verdict are all
    ``verdict``; ``line`` is its line of the compliance summary."""
    pytester.makepyfile(test_suite=test_source)
    report = pytester.path / "report.json"
    targets = [f"--upgrade-target={url}" for url in (server.https_url, server.http_url) if url]
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "-rA",
        "--upgrade-timeout=5",
        *targets,
        f"--upgrade-ca={server.cafile}",
        f"--upgrade-report={report}",
    )
    result.assert_outcomes(**{verdict: 1})
    result.stdout.fnmatch_lines([line])
    (entry,) = json.loads(report.read_text())["results"]
    assert (entry["outcome"], entry["verdict"]) == (verdict, verdict)
    return result, entry, {check["id"]: check for check in entry["checks"]}


def _outcomes(entry: dict[str, Any]) -> dict[str, str]:
    return {check["id"]: check["outcome"] for check in entry["checks"]}


# -- 1. the websockets library's own server ------------------------------------

WEBSOCKETS_SERVER = """
import asyncio
import socket
import ssl
import sys

from websockets.asyncio.server import serve


async def echo(websocket):
    async for message in websocket:
        await websocket.send(message)


async def main():
    certfile, tls_fd, plain_fd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    # As websockets' own TLS example does: a server context with the chain, no ALPN.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile)
    tls = socket.socket(fileno=tls_fd)
    plain = socket.socket(fileno=plain_fd)
    async with serve(echo, sock=tls, ssl=context), serve(echo, sock=plain):
        print("ready", flush=True)
        await asyncio.Event().wait()  # until SIGTERM


asyncio.run(main())
"""

WEBSOCKET_TEST = """
import pytest

@pytest.mark.requires_upgrade("websocket", path="/")
def test_echo(upgrade):
    upgrade.websocket.send("ping")
    assert upgrade.websocket.recv(timeout=5) == "ping"
"""


@pytest.fixture
def websockets_server(
    start_server: Callable[..., ThirdPartyServer], tmp_path: pathlib.Path
) -> ThirdPartyServer:
    script = tmp_path / "websockets_server.py"
    script.write_text(WEBSOCKETS_SERVER)
    return start_server(
        "the websockets server",
        lambda pem, tls, plain: [sys.executable, str(script), pem, str(tls), str(plain)],
        cleartext=True,
    )


def test_websockets_library_server(
    pytester: pytest.Pytester, websockets_server: ThirdPartyServer
) -> None:
    # It is websockets answering, not anything of ours: its Server field says so.
    plain_get = httpx.get(f"{websockets_server.http_url}/", timeout=5)
    assert plain_get.status_code == 426
    assert "websockets/" in plain_get.headers["server"]

    # Two must-checks fail (below), so the marked test fails before its body.
    result, entry, checks = _run_plugin(
        pytester,
        websockets_server,
        WEBSOCKET_TEST,
        verdict="failed",
        line="FAILED  websocket GET / [[]*]  test_suite.py::test_echo",
    )
    assert entry["target"] == f"{websockets_server.https_url} and {websockets_server.http_url}"
    assert _outcomes(entry) == {
        # The plain GET (no Upgrade, no Connection) reaches ServerProtocol.accept;
        # process_request finds no "upgrade" in Connection and raises
        # InvalidUpgrade, which accept turns into reject(426, ...) plus
        # `Upgrade: websocket`. So the library answers a plain GET with a 426
        # (RFC 6455 §4.2.1 only asks for "an appropriate error code").
        "status-426": "passed",
        # ... that carries exactly one protocol, `websocket`, well-formed and the
        # one the requirement needs (RFC 6455 §11.2).
        "upgrade-present": "passed",
        "upgrade-syntax": "passed",
        "upgrade-names-required": "passed",
        # reject() builds every refusal with `Connection: close` and accept adds
        # Upgrade afterwards without touching Connection: the 426 lacks the
        # "upgrade" connection option that RFC 9110 §7.8 requires of any sender
        # of Upgrade. A real violation by websockets 17 (intermediaries may
        # forward or drop its Upgrade field).
        "connection-upgrade": "failed",
        # reject() always sends `Content-Type: text/plain; charset=utf-8` with a
        # human sentence ("You cannot access a WebSocket server directly with a
        # browser"), not an RFC 9457 problem document: a should-level warning ...
        "problem-media-type": "warned",
        # ... so there is no problem+json body to validate or read.
        "problem-body": "skipped",
        "problem-actionable": "skipped",
        # reject() sets no Cache-Control and no Expires.
        "not-cacheable": "passed",
        # Nothing is in between, so both proper handshakes (wss:// and ws://)
        # got their 101: the positive evidence that they arrived.
        "upgrade-stripped": "passed",
        # The one answer that is neither 101 nor 426 (the version probe's 400)
        # carries no Upgrade field.
        "upgrade-unswitchable": "passed",
        # A version-13 handshake passes process_request (GET, HTTP/1.1,
        # Connection: Upgrade, Upgrade: websocket, a 16-byte key) and accept
        # answers 101 Switching Protocols on both listeners ...
        "upgraded-succeeds": "passed",
        # ... which websockets' own client (the probe) accepted ...
        "upgraded-protocol": "passed",
        # ... carrying Upgrade: websocket, Connection: Upgrade and
        # Sec-WebSocket-Accept = accept_key(key), i.e. base64(SHA-1(key + GUID))
        # (RFC 6455 §4.2.2).
        "websocket-accept": "passed",
        # The version probe sends 99, unassigned by IANA (so no server can
        # support it). process_request raises InvalidHeaderValue for any version but "13"; it
        # is an InvalidHandshake, which accept answers with reject(400, ...):
        # no Sec-WebSocket-Version field listing 13. RFC 6455 §4.2.2 says the
        # server MUST answer an unsupported version with an error "and a
        # |Sec-WebSocket-Version| header field indicating the version(s) the
        # server is capable of understanding" (§4.4): a real violation, so a
        # client speaking another version cannot learn that 13 would work.
        "websocket-version": "failed",
        # The websockets library speaks no HTTP/2 (ALPN selects nothing else).
        "websocket-over-h2": "skipped",
        # No subprotocol offered, and serve() without subprotocols= selects none.
        "websocket-subprotocol": "passed",
    }
    assert checks["connection-upgrade"]["actual"] == "Connection: close"
    assert checks["problem-media-type"]["actual"] == "Content-Type: text/plain; charset=utf-8"
    assert checks["upgrade-names-required"]["actual"] == "Upgrade: websocket"
    assert checks["websocket-version"]["actual"] == (
        "HTTP/1.1 400 Bad Request, Sec-WebSocket-Version: (none)"
    )
    # The upgraded checks judged both listeners.
    assert (
        websockets_server.https_url.replace("https", "wss") in checks["websocket-accept"]["message"]
    )
    assert websockets_server.http_url is not None
    assert websockets_server.http_url.replace("http", "ws") in checks["websocket-accept"]["message"]
    result.stdout.fnmatch_lines(["*✘ connection-upgrade [[]must*", "*✘ websocket-version [[]must*"])

    # Without the two checks websockets fails, the test body runs: upgrade.websocket
    # is a connection to the library's echo handler. The text/plain 426 is still
    # a should-level PytestUpgradeWarning.
    rerun = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        f"--upgrade-target={websockets_server.https_url}",
        f"--upgrade-target={websockets_server.http_url}",
        f"--upgrade-ca={websockets_server.cafile}",
        "--upgrade-skip-checks=connection-upgrade,websocket-version",
    )
    rerun.assert_outcomes(passed=1, warnings=1)
    rerun.stdout.fnmatch_lines(["*PytestUpgradeWarning*problem-media-type*"])


# -- 2. Node.js's own HTTP/2 server --------------------------------------------

NODE_SERVER = """
'use strict';
const fs = require('node:fs');
const http2 = require('node:http2');

const [pem, fd] = [fs.readFileSync(process.argv[2]), Number(process.argv[3])];
const problem = JSON.stringify({
  type: 'about:blank',
  title: 'Upgrade Required',
  status: 426,
  detail: 'This endpoint requires HTTP/2.',
});
const server = http2.createSecureServer({ key: pem, cert: pem, allowHTTP1: true }, (req, res) => {
  if (req.httpVersionMajor < 2) {
    res.writeHead(426, {
      'Upgrade': 'HTTP/2.0',
      'Connection': 'Upgrade',
      'Content-Type': 'application/problem+json',
      'Content-Length': Buffer.byteLength(problem),
    });
    res.end(problem);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"ok": true}');
});
process.on('SIGTERM', () => process.exit(0));
server.listen({ fd }, () => console.log('ready'));
"""

H2_TEST = """
import pytest

@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_orders(upgrade):
    response = upgrade.client.get("/v2/orders")
    assert response.http_version == "HTTP/2"
    assert response.json() == {"ok": True}
"""


@pytest.fixture
def node_h2_server(
    start_server: Callable[..., ThirdPartyServer], tmp_path: pathlib.Path
) -> ThirdPartyServer:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js (node) is not installed; its HTTP/2 server is the target")
    script = tmp_path / "h2_server.js"
    script.write_text(NODE_SERVER)
    return start_server(
        "the Node.js HTTP/2 server",
        lambda pem, tls, _plain: [node, str(script), pem, str(tls)],
        cleartext=False,
    )


def test_node_http2_server(pytester: pytest.Pytester, node_h2_server: ThirdPartyServer) -> None:
    _, entry, checks = _run_plugin(
        pytester,
        node_h2_server,
        H2_TEST,
        verdict="passed",
        line="PASSED  h2 GET /v2/orders  test_suite.py::test_orders",
    )
    # With allowHTTP1, Node's ALPN callback selects http/1.1 for a client
    # offering only that, and hands the request to the same handler as an
    # http.IncomingMessage with httpVersionMajor 1: the handler's 426 goes
    # out with the handler's fields unchanged (Node's HTTP/1.1 writer keeps
    # a user-set Connection field and adds only Date here), so Upgrade:
    # HTTP/2.0, Connection: Upgrade and the problem document arrive as written.
    assert _outcomes(entry) == PROBLEM_426 | {
        # The only HTTP/1.1 answer is the 426: nothing ordinary to judge.
        "upgrade-unswitchable": "skipped",
        # Offered h2 and http/1.1, Node selects h2 and answers over HTTP/2 ...
        "upgraded-succeeds": "passed",
        "upgraded-protocol": "passed",
        # ... with content-type and Node's own date, nothing else: Node's HTTP/2
        # layer never sends connection-specific fields (RFC 9113 §8.2.2); its
        # mapToHeaders throws ERR_HTTP2_INVALID_CONNECTION_HEADERS for Upgrade,
        # Keep-Alive and the like, so a handler could not add them if it tried.
        "h2-no-connection-headers": "passed",
        # Node's TLS minimum is tls.DEFAULT_MIN_VERSION, TLSv1.2: a TLS 1.0 or
        # 1.1 ClientHello gets a protocol_version alert (RFC 8996).
        "tls-legacy-refused": "passed",
    }
    assert checks["tls-legacy-refused"]["actual"] == (
        "TLSv1: refused (alert protocol_version); TLSv1.1: refused (alert protocol_version)"
    )
    assert checks["upgraded-protocol"]["actual"] == "ALPN h2, TLSv1.3, response over HTTP/2"
    assert checks["connection-upgrade"]["actual"] == "Connection: Upgrade"
