"""Generated pytest suites for the benchmark (written into a temporary directory).

* the plugin suite: N tests marked ``@pytest.mark.requires_upgrade("h2", path=...)``
  against the bundled server running the demo app;
* the hand-written suite: the same assertions made with httpx against a
  hand-written hypercorn fixture, as a careful user writes them without the
  plugin (a session-scoped server thread, clients built once and reused, the
  CA verified, never ``verify=False``);
* a one-test suite that times the ``upgrade_server`` fixture in a fresh session;
* a directory whose pytest.ini declares requirements for a live target.
"""

from __future__ import annotations

import pathlib
import shutil
import textwrap

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEMO_APP = ROOT / "examples" / "demo" / "app.py"

PYTEST_INI = """\
[pytest]
asyncio_default_fixture_loop_scope = function
"""

PLUGIN_CONFTEST = """\
import pytest
from app import app


@pytest.fixture(scope="session")
def upgrade_app():
    return app
"""

HAND_CONFTEST = '''\
"""A hand-written hypercorn fixture and httpx clients, the way a careful user writes them."""

import asyncio
import socket
import ssl
import tempfile
import threading
import warnings

import httpx
import pytest
import trustme
from app import app
from hypercorn.asyncio import serve
from hypercorn.config import Config


@pytest.fixture(scope="session")
def server():
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    with tempfile.TemporaryDirectory() as tmp:
        pem = f"{tmp}/server.pem"
        cert.private_key_and_cert_chain_pem.write_to_path(pem)
        listener = socket.create_server(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        config = Config()
        config.bind = [f"fd://{listener.detach()}"]
        config.certfile = config.keyfile = pem
        config.accesslog = None
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()
        task = loop.create_task(serve(app, config, shutdown_trigger=stop.wait))
        thread = threading.Thread(target=loop.run_until_complete, args=(task,))
        thread.start()
        try:
            yield ca, f"https://127.0.0.1:{port}"
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(10)
            loop.close()


def _context(ca, alpn=None, version=None):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ca.configure_trust(context)
    if version is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
            context.minimum_version = context.maximum_version = version
    return context


def _client(server, **options):
    ca, url = server
    return httpx.Client(base_url=url, trust_env=False, timeout=5, **options)


@pytest.fixture(scope="session")
def http1_client(server):
    with _client(server, verify=_context(server[0]), http1=True, http2=False) as client:
        yield client


@pytest.fixture(scope="session")
def http2_client(server):
    with _client(server, verify=_context(server[0]), http2=True) as client:
        yield client


@pytest.fixture(scope="session")
def old_tls_clients(server):
    versions = (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)
    clients = [_client(server, verify=_context(server[0], version=v)) for v in versions]
    yield clients
    for client in clients:
        client.close()


CONNECTION_SPECIFIC = {
    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"
}


def _tokens(value):
    return [token.strip().lower() for token in value.split(",") if token.strip()]


def assert_requires_http2(http1_client, http2_client, old_tls_clients, path):
    # The legacy request: HTTP/1.1 over TLS, ALPN offering http/1.1 only.
    legacy = http1_client.get(path)
    assert legacy.http_version == "HTTP/1.1"
    assert legacy.status_code == 426
    upgrade = _tokens(legacy.headers.get("upgrade", ""))
    assert upgrade, "426 without an Upgrade field"
    assert any(token in ("h2", "http/2", "http/2.0") for token in upgrade), upgrade
    assert "upgrade" in _tokens(legacy.headers.get("connection", ""))
    media_type = legacy.headers.get("content-type", "").split(";")[0].strip().lower()
    assert media_type == "application/problem+json"
    problem = legacy.json()
    assert isinstance(problem, dict)
    assert problem.get("status", 426) == 426
    text = " ".join(str(problem.get(k, "")) for k in ("title", "detail", "type"))
    assert "HTTP/2" in text or any("migration" in str(v) for v in problem.values())
    cache_control = _tokens(legacy.headers.get("cache-control", ""))
    assert not any(t.startswith(("max-age", "s-maxage")) or t == "public" for t in cache_control)
    # The upgraded request: HTTP/2 chosen by ALPN.
    upgraded = http2_client.get(path)
    assert upgraded.http_version == "HTTP/2"
    assert upgraded.status_code != 426 and upgraded.status_code < 500
    assert not CONNECTION_SPECIFIC & {name.lower() for name in upgraded.headers}
    # TLS 1.0 and 1.1 are refused.
    for client in old_tls_clients:
        with pytest.raises(httpx.ConnectError):
            client.get(path)
'''

START_TEST = """\
import json
import os
import socket
import time

# pytest-upgrade imports the bundled server's dependencies (cryptography,
# hypercorn, aioquic with the h3 extra: about 0.3 s) at collection when a
# marked test or one declaring upgrade_server will run. This test requests the
# fixture dynamically, which collection cannot see, so it imports them here,
# as collection does: the measurement is the server's start, not the import.
from pytest_upgrade.glue.collection import import_server_dependencies

import_server_dependencies()


def _answer(port, context=None):
    with socket.create_connection(("127.0.0.1", port)) as raw:
        sock = context.wrap_socket(raw, server_hostname="127.0.0.1") if context else raw
        sock.sendall(b"GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
        assert sock.recv(16).startswith(b"HTTP/1.1 ")


def test_start(request):
    start = time.perf_counter()
    server = request.getfixturevalue("upgrade_server")
    started = time.perf_counter()
    _answer(int(server.https_url.rsplit(":", 1)[1]), server.ssl_context())
    _answer(int(server.http_url.rsplit(":", 1)[1]))
    answered = time.perf_counter()
    with open(os.environ["BENCH_START_OUT"], "a") as out:
        out.write(json.dumps({"started": started - start, "answered": answered - start}) + "\\n")
"""


def _path(i: int) -> str:
    return f"/v2/orders/{i}"


def write_plugin_suite(directory: pathlib.Path, count: int) -> pathlib.Path:
    directory.mkdir(parents=True)
    shutil.copy(DEMO_APP, directory / "app.py")
    (directory / "pytest.ini").write_text(PYTEST_INI)
    (directory / "conftest.py").write_text(PLUGIN_CONFTEST)
    tests = ["import pytest\n"]
    for i in range(count):
        tests.append(
            textwrap.dedent(f"""
            @pytest.mark.requires_upgrade("h2", path="{_path(i)}")
            def test_h2_{i}():
                pass
            """)
        )
    (directory / "test_plugin_suite.py").write_text("".join(tests))
    return directory


def write_hand_suite(directory: pathlib.Path, count: int) -> pathlib.Path:
    directory.mkdir(parents=True)
    shutil.copy(DEMO_APP, directory / "app.py")
    (directory / "pytest.ini").write_text(PYTEST_INI)
    (directory / "conftest.py").write_text(HAND_CONFTEST)
    tests = ["from conftest import assert_requires_http2\n"]
    for i in range(count):
        tests.append(
            textwrap.dedent(f"""
            def test_h2_{i}(http1_client, http2_client, old_tls_clients):
                assert_requires_http2(http1_client, http2_client, old_tls_clients, "{_path(i)}")
            """)
        )
    (directory / "test_hand_suite.py").write_text("".join(tests))
    return directory


def write_start_suite(directory: pathlib.Path) -> pathlib.Path:
    directory.mkdir(parents=True)
    shutil.copy(DEMO_APP, directory / "app.py")
    (directory / "pytest.ini").write_text(PYTEST_INI)
    (directory / "conftest.py").write_text(PLUGIN_CONFTEST)
    (directory / "test_start.py").write_text(START_TEST)
    return directory


# The declared requirements of the live-target run, cycled over the demo app's areas.
LIVE_AREAS = (
    ("h2", "/v2/orders/{i}"),
    ("h2c", "/internal/stock/{i}"),
    ("TLS/1.2", "/secure/payments/{i}"),
    ("HTTP/1.1", "/legacy/catalogue/{i}"),
)


def write_declared_suite(directory: pathlib.Path, count: int) -> pathlib.Path:
    directory.mkdir(parents=True)
    lines = []
    for i in range(count):
        protocol, path = LIVE_AREAS[i % len(LIVE_AREAS)]
        lines.append(f"    {protocol} {path.format(i=i)}")
    ini = PYTEST_INI + "upgrade_requirements =\n" + "\n".join(lines) + "\n"
    (directory / "pytest.ini").write_text(ini)
    return directory


# Measures the inner session from inside and writes memory.json at the end:
# its peak RSS (VmHWM), and, with tracemalloc on, the Python memory still
# allocated after a full collection once WARMUP items are done and once the
# last one is (before the session's summaries): what each finished
# requirement leaves behind.
MEMORY_CONFTEST = """
import gc
import json
import tracemalloc

WARMUP = {warmup}
TRACE = {trace}


class _Memory:
    def __init__(self, config):
        self.config = config
        self.done = 0
        self.total = None
        self.numbers = {{}}
        if TRACE:
            tracemalloc.start()

    def _retained(self):
        gc.collect()
        return tracemalloc.get_traced_memory()[0]

    def pytest_collection_finish(self, session):
        self.total = len(session.items)

    def pytest_runtest_logfinish(self, nodeid):
        self.done += 1
        if TRACE and self.done == WARMUP:
            self.numbers["warm_bytes"] = self._retained()
        if TRACE and self.done == self.total:
            self.numbers["last_bytes"] = self._retained()

    def pytest_unconfigure(self, config):
        with open("/proc/self/status") as status:
            fields = dict(line.split(":", 1) for line in status)
        self.numbers["peak_rss_kib"] = int(fields["VmHWM"].split()[0])
        self.numbers["items"] = self.done
        (config.rootpath / "memory.json").write_text(json.dumps(self.numbers))


def pytest_configure(config):
    config.pluginmanager.register(_Memory(config), "memory-measure")
"""


def write_memory_suite(
    directory: pathlib.Path, count: int, *, trace: bool = False, warmup: int = 0
) -> pathlib.Path:
    """``count`` declared h2 requirements against the bundled server running the demo app."""
    directory.mkdir(parents=True)
    lines = "\n".join(f"    h2 {_path(i)}" for i in range(count))
    (directory / "pytest.ini").write_text(PYTEST_INI + "upgrade_requirements =\n" + lines + "\n")
    conftest = PLUGIN_CONFTEST + MEMORY_CONFTEST.format(warmup=warmup, trace=trace)
    (directory / "conftest.py").write_text(conftest)
    shutil.copy(DEMO_APP, directory / "app.py")
    return directory
