"""Section 3, a generated suite of marked tests versus the same assertions by hand.

``requires_upgrade("h2")`` tests run by pytest against the bundled server,
versus the same assertions written with httpx against a hand-written
hypercorn fixture, as a careful user writes them without the plugin (a
session-scoped server thread, clients built once and reused, the CA
verified, never ``verify=False``), run with ``-p no:upgrade``.
"""

from __future__ import annotations

import pathlib
import statistics
import textwrap

from _harness import PLUGIN_CONFTEST, PYTEST_INI, Bench, Row, run_pytest, seconds, write_suite

TARGET_RATIO = 1.0
PLUGIN_ARGS = ["-q", "-p", "no:cacheprovider"]
# Without the plugin: the hand-written suite is what a project not using it runs.
HAND_ARGS = [*PLUGIN_ARGS, "-p", "no:upgrade"]
ONE_TEST = ["-k", "test_h2_0"]  # start-up, collection, the server, one test

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


def _path(i: int) -> str:
    return f"/v2/orders/{i}"


def write_plugin_suite(directory: pathlib.Path, count: int) -> pathlib.Path:
    tests = ["import pytest\n"]
    for i in range(count):
        tests.append(
            textwrap.dedent(f"""
            @pytest.mark.requires_upgrade("h2", path="{_path(i)}")
            def test_h2_{i}():
                pass
            """)
        )
    files = {"pytest.ini": PYTEST_INI, "conftest.py": PLUGIN_CONFTEST}
    return write_suite(directory, {**files, "test_plugin_suite.py": "".join(tests)})


def write_hand_suite(directory: pathlib.Path, count: int) -> pathlib.Path:
    tests = ["from conftest import assert_requires_http2\n"]
    for i in range(count):
        tests.append(
            textwrap.dedent(f"""
            def test_h2_{i}(http1_client, http2_client, old_tls_clients):
                assert_requires_http2(http1_client, http2_client, old_tls_clients, "{_path(i)}")
            """)
        )
    files = {"pytest.ini": PYTEST_INI, "conftest.py": HAND_CONFTEST}
    return write_suite(directory, {**files, "test_hand_suite.py": "".join(tests)})


def run(bench: Bench) -> None:
    n, env, report = bench.settings.suite_tests, bench.env, bench.report
    plugin_dir = write_plugin_suite(bench.scratch / "plugin_suite", n)
    hand_dir = write_hand_suite(bench.scratch / "hand_suite", n)
    # The one-test runs; the first also warms up (bytecode and rewritten test modules
    # cached, OS caches): the fastest counts.
    plugin_one = min(
        run_pytest(plugin_dir, [*PLUGIN_ARGS, *ONE_TEST], expect_passed=1, env=env)
        for _ in range(bench.settings.one_test_runs)
    )
    hand_one = min(
        run_pytest(hand_dir, [*HAND_ARGS, *ONE_TEST], expect_passed=1, env=env)
        for _ in range(bench.settings.one_test_runs)
    )
    plugin, hand = [], []
    for _ in range(bench.settings.suite_runs):
        plugin.append(run_pytest(plugin_dir, PLUGIN_ARGS, expect_passed=n, env=env))
        hand.append(run_pytest(hand_dir, HAND_ARGS, expect_passed=n, env=env))
    p, h = statistics.median(plugin), statistics.median(hand)
    report.add(
        Row(
            "3",
            f"{n} marked h2 tests vs hand-written httpx suite (median of {len(plugin)})",
            seconds(p),
            seconds(h),
            f"{p / h:.2f}x",
            f"<= {TARGET_RATIO}x",
            p / h <= TARGET_RATIO,
        )
    )
    per_plugin = 1000 * (p - plugin_one) / (n - 1)
    per_hand = 1000 * (h - hand_one) / (n - 1)
    report.note(
        f"3: a one-test run takes {plugin_one:.2f} s with the plugin and {hand_one:.2f} s"
        f" hand-written (interpreter, imports, collection, server start); each further test"
        f" costs {per_plugin:.1f} ms with the plugin and {per_hand:.1f} ms hand-written."
        " The hand-written suite reuses one HTTP/1.1 and one HTTP/2 keep-alive connection"
        " for every test and makes two refused TLS handshakes per test; the plugin opens four"
        " fresh connections per test (two full TLS handshakes with an exchange, two refused)."
    )
    floor = report.floors.get("h2")
    if floor is not None:
        report.note(
            f"3: {n} x the concurrent h2 floor of section 2 ({floor:.1f} ms) is"
            f" {n * floor / 1000:.2f} s: with fresh connections for every test the plugin's"
            f" suite cannot get below that, against {h:.2f} s for the whole hand-written run."
        )
