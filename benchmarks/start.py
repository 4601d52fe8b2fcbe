"""Section 1, session start: from requesting the bundled server to its first answers.

``BundledCA()``, ``UpgradeServer.start()``, a first answer on the TLS and on
the cleartext listener; in-process (warm), and in a fresh pytest session
(cold: a test requests the ``upgrade_server`` fixture).
"""

from __future__ import annotations

import json
import socket
import ssl
import time

from _harness import (
    PLUGIN_CONFTEST,
    PYTEST_INI,
    TIMEOUT,
    Bench,
    HarnessError,
    Row,
    demo_app,
    median_ms,
    ms,
    port_of,
    run_pytest,
    write_suite,
)

from pytest_upgrade import BundledCA, UpgradeServer

TARGET_MS = 50

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


def _first_answer(port: int, context: ssl.SSLContext | None) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw:
        sock = context.wrap_socket(raw, server_hostname="127.0.0.1") if context else raw
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        if not sock.recv(16).startswith(b"HTTP/1.1 "):
            raise HarnessError("the bundled server did not answer HTTP/1.1")


def run(bench: Bench) -> None:
    _in_process(bench)
    _fresh_session(bench)


def _in_process(bench: Bench) -> None:
    app = demo_app()
    totals, parts, stops = [], [], []
    for _ in range(bench.settings.start_iterations):
        t0 = time.perf_counter()
        ca = BundledCA()
        t1 = time.perf_counter()
        server = UpgradeServer(app, ca=ca)
        try:
            server.start()
            t2 = time.perf_counter()
            _first_answer(port_of(server.https_url), server.ssl_context())
            t3 = time.perf_counter()
            _first_answer(port_of(server.http_url), None)
            t4 = time.perf_counter()
        finally:
            s0 = time.perf_counter()
            server.stop()
            ca.close()
            stops.append(time.perf_counter() - s0)
        totals.append(t4 - t0)
        parts.append((t1 - t0, t2 - t1, t3 - t2, t4 - t3))
    total = median_ms(totals)
    bench.report.add(
        Row(
            "1",
            f"session start, in-process (median of {len(totals)})",
            ms(total),
            target=f"<= {TARGET_MS} ms",
            met=total <= TARGET_MS,
        )
    )
    ca_ms, start_ms, tls_ms, tcp_ms = (median_ms([p[i] for p in parts]) for i in range(4))
    bench.report.note(
        f"1: in-process medians: BundledCA {ca_ms:.1f} ms, UpgradeServer.start {start_ms:.1f} ms,"
        f" first TLS answer {tls_ms:.1f} ms, first cleartext answer {tcp_ms:.1f} ms;"
        f" first iteration {totals[0] * 1000:.1f} ms; stop() {median_ms(stops):.1f} ms"
        " (not counted)."
    )


def _fresh_session(bench: Bench) -> None:
    """The same, in a fresh pytest session: the fixture is requested by a test."""
    files = {"pytest.ini": PYTEST_INI, "conftest.py": PLUGIN_CONFTEST, "test_start.py": START_TEST}
    directory = write_suite(bench.scratch / "start", files)
    out = bench.scratch / "start.jsonl"
    env = {**bench.env, "BENCH_START_OUT": str(out)}
    for _ in range(bench.settings.start_sessions):
        run_pytest(directory, ["-q", "-p", "no:cacheprovider"], env=env, expect_passed=1)
    samples = [json.loads(line) for line in out.read_text().splitlines()]
    cold = median_ms([s["answered"] for s in samples])
    bench.report.add(
        Row(
            "1",
            f"session start, fresh pytest session (median of {len(samples)})",
            ms(cold),
            target=f"<= {TARGET_MS} ms",
            met=cold <= TARGET_MS,
        )
    )
    bench.report.note(
        "1: fresh session: getfixturevalue('upgrade_server') returned after"
        f" {median_ms([s['started'] for s in samples]):.1f} ms (median); the rest is the"
        " first answer on each listener."
    )
