"""A pool of 200 nodes, a third of them misbehaving: the run stays bounded.

134 nginx nodes and 66 raw TCP nodes on 127.0.1.1 ... 127.0.1.200, one port
for all, named through ``--upgrade-resolve`` (no DNS). Every third node
misbehaves, in turn: it never answers (``hostile.silent``), resets the
connection once the ClientHello arrived (``hostile.reset_at_once``: mid-handshake),
or answers the ClientHello with random bytes. Each misbehaving node costs at
most its probe timeout, and the nodes are probed concurrently (probe ahead:
``--upgrade-concurrency``, each node its own host slots), so the run takes a
few timeouts, not one per node: the bound asserted is a quarter of what 66
timeouts one after another would cost, and every good node passes.
"""

from __future__ import annotations

import json
import random
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from support.hostile import Behaviour, linger, reset_at_once, silent
from support.matrix_servers import binary
from support.pool_servers import POOL_NAME, Pool, PoolCertificates, misbehaving_nodes, serve_pool

TIMEOUT = 2.0
ADDRESSES = tuple(f"127.0.1.{n}" for n in range(1, 201))


def garbage(conn: Any) -> None:
    """Take the ClientHello, answer 4 KiB of (seeded) random bytes, close."""
    conn.settimeout(5)
    conn.recv(65536)
    conn.sendall(random.Random(426).randbytes(4096))
    conn.shutdown(socket.SHUT_WR)
    linger(conn, 5)


BEHAVIOURS: tuple[Behaviour, ...] = (silent, reset_at_once, garbage)
HOSTILE = {a: BEHAVIOURS[n % 3] for n, a in enumerate(ADDRESSES[2::3])}
GOOD = tuple(a for a in ADDRESSES if a not in HOSTILE)


@pytest.fixture(scope="module")
def big_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    binary("nginx")
    certificates = PoolCertificates(tmp_path_factory.mktemp("big-pool-certs"))
    for pool in serve_pool(tmp_path_factory.mktemp("big-pool"), certificates, GOOD):
        with misbehaving_nodes(pool.port, HOSTILE):
            yield pool


def test_two_hundred_nodes_a_third_misbehaving_stay_bounded(
    pytester: pytest.Pytester, big_pool: Pool
) -> None:
    assert len(HOSTILE) == 66
    report = pytester.path / "report.json"
    started = time.monotonic()
    result = pytester.runpytest(
        "-p", "no:cacheprovider", f"--upgrade-timeout={TIMEOUT:g}",
        f"--upgrade-target={big_pool.url()}", f"--upgrade-ca={big_pool.ca}",
        f"--upgrade-resolve={POOL_NAME}:{big_pool.port}:{','.join(ADDRESSES)}",
        "--upgrade-require=h2 /v2/orders", f"--upgrade-report={report}",
    )  # fmt: skip
    elapsed = time.monotonic() - started
    result.assert_outcomes(passed=134, errors=66)
    serial = len(HOSTILE) * TIMEOUT  # one timeout after another, at the least
    assert elapsed < serial / 4, f"{elapsed:.1f} s for 200 nodes (66 timeouts: {serial:g} s)"
    entries = {e["node"]: e for e in json.loads(report.read_text())["results"]}
    assert sorted(entries) == sorted(ADDRESSES)
    assert {entries[a]["verdict"] for a in GOOD} == {"passed"}
    for address, behaviour in HOSTILE.items():
        entry = entries[address]
        assert entry["verdict"] == "error", (address, behaviour.__name__)
        assert entry["nodeid"].endswith(f"@{address}]")
    result.stdout.fnmatch_lines([f"{POOL_NAME}:{big_pool.port} * 66 of 200 nodes fail"])
