"""Fixtures shared by the project's own tests."""

from __future__ import annotations

import collections
import contextlib
import importlib
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpcore  # noqa: F401  (see below)
import pytest
import trustme

from pytest_upgrade.glue.collection import import_server_dependencies

# pytester's in-process runs drop modules first imported during a run; httpx
# caches httpcore's exception classes on first use, and a second copy of
# httpcore imported later no longer matches them. Importing it here, before
# any pytester run, keeps one copy.
#
# The same for what the plugin imports when an inner run needs it: every run
# would import it again (the bundled server alone brings hypercorn, aioquic and
# cryptography, about 190 modules, and pytest rewrites the asserts of the
# plugin's own each time), a third of a short run. Imported once here, the inner
# runs share them; none of these modules keeps state between runs.
import_server_dependencies()
_SHARED_WITH_INNER_RUNS = (
    "encodings.idna",
    "cryptography.hazmat.backends.openssl",
    "hypercorn.protocol.quic",  # the bundled server's HTTP/3 listener (the h3 extra)
    "pytest_upgrade._clients",
    "pytest_upgrade.probes.websocket",
    "pytest_upgrade.probes.websocket_h2",
    "websockets.asyncio.client",
    "xdist.dsession",
)
for _name in _SHARED_WITH_INNER_RUNS:
    with contextlib.suppress(ImportError):
        importlib.import_module(_name)


@dataclass
class LiveServer:
    https_url: str
    http_url: str
    cafile: str


class _LiveServers:
    """The hypercorn processes of a session, one per app source and index.

    A test's n-th server of a source is the session's n-th of that source: a
    stateless app serves every test alike, and each start costs a process and a
    hypercorn import (seconds on a loaded machine).
    """

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self._factory = factory
        self._servers: dict[tuple[str, int], LiveServer] = {}
        self._processes: list[subprocess.Popen[bytes]] = []
        self._sockets: list[socket.socket] = []

    def get(self, app_source: str, index: int) -> LiveServer:
        key = (app_source, index)
        if key not in self._servers:
            self._servers[key] = self._start(app_source)
        return self._servers[key]

    def _start(self, app_source: str) -> LiveServer:
        """Start ``hypercorn`` as a separate process (a live target) serving app source text.

        The listening sockets are bound here and inherited by the child, so the
        ports are known before it starts and nothing races for them.
        """
        workdir = self._factory.mktemp("live")
        (workdir / "live_app.py").write_text(app_source)
        ca = trustme.CA()
        ca.cert_pem.write_to_path(str(workdir / "ca.pem"))
        ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(
            str(workdir / "server.pem")
        )
        tls = socket.create_server(("127.0.0.1", 0))
        plain = socket.create_server(("127.0.0.1", 0))
        self._sockets.extend((tls, plain))
        command = [
            sys.executable, "-m", "hypercorn", "live_app:app",
            "--certfile", "server.pem", "--keyfile", "server.pem",
            "--bind", f"fd://{tls.fileno()}", "--insecure-bind", f"fd://{plain.fileno()}",
            "--graceful-timeout", "1",
        ]  # fmt: skip
        process = subprocess.Popen(
            command,
            cwd=workdir,
            pass_fds=(tls.fileno(), plain.fileno()),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._processes.append(process)
        https_url = f"https://127.0.0.1:{tls.getsockname()[1]}"
        _wait_until_serving(plain.getsockname()[1], process)
        return LiveServer(
            https_url, f"http://127.0.0.1:{plain.getsockname()[1]}", str(workdir / "ca.pem")
        )

    def close(self) -> None:
        # Every server is told to stop before any is waited for: each may take
        # its graceful timeout (1 s) to close the connections it still holds.
        for process in self._processes:
            if process.poll() is None:
                process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for process in self._processes:
            if process.stderr is not None:
                process.stderr.close()
        for sock in self._sockets:
            sock.close()


@pytest.fixture(scope="session")
def _live_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_LiveServers]:
    servers = _LiveServers(tmp_path_factory)
    yield servers
    servers.close()


@pytest.fixture
def live_server(_live_servers: _LiveServers) -> Callable[[str], LiveServer]:
    """A live target serving app source text: ``hypercorn`` in a process of its own.

    Each call in a test is another server (two calls with one source are two
    deployments); across tests the servers are shared (see ``_LiveServers``).
    """
    started: collections.Counter[str] = collections.Counter()

    def start(app_source: str) -> LiveServer:
        index = started[app_source]
        started[app_source] += 1
        return _live_servers.get(app_source, index)

    return start


def _wait_until_serving(port: int, process: subprocess.Popen[bytes]) -> None:
    """The socket accepts at once (it is ours); wait until hypercorn answers on it."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"hypercorn exited with {process.returncode}: {stderr}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                probe.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if probe.recv(16).startswith(b"HTTP/1.1"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("hypercorn did not answer within 20 s")
