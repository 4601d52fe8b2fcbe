"""Kept-alive connections (probes.reuse) against real servers: where a real client keeps
one, what makes it new again, and the verdicts, the same with and without reuse."""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pytest_upgrade import BundledCA, UpgradeServer
from pytest_upgrade._model import Observation, Requirement
from pytest_upgrade.probes.endpoint import ClientTrust, Endpoint
from pytest_upgrade.probes.engine import ProbeEngine, ProbePlan
from pytest_upgrade.probes.http1 import http1_exchange
from pytest_upgrade.probes.http2 import http2_exchange
from pytest_upgrade.probes.reuse import ConnectionPool, lending
from pytest_upgrade.probes.spec import ConnectionSpec, Request
from pytest_upgrade.probes.target import Target
from pytest_upgrade.protocols.planning import assemble, plan_probes
from support.hostile import PROBLEM, REFUSAL_HEADERS, head, read_head, zoo_server

_BODY = json.dumps(PROBLEM).encode()
# A 426 that keeps the connection (HTTP/1.1 connections persist, RFC 9112 §9.3).
_KEPT_426 = head(426, "Upgrade Required", [*REFUSAL_HEADERS, ("Content-Length", str(len(_BODY)))])
_CLOSING_426 = head(
    426,
    "Upgrade Required",
    [*REFUSAL_HEADERS, ("Content-Length", str(len(_BODY))), ("Connection", "close")],
)


def _serves_426s(conn: Any) -> None:
    """Every request on the connection answered with a kept-alive 426."""
    while read_head(conn):
        conn.sendall(_KEPT_426 + _BODY)


def _answers_once_then_drops(conn: Any) -> None:
    """The first request answered (the connection kept), the second read and dropped:
    a server that closed an idle connection just as the request was sent."""
    read_head(conn)
    conn.sendall(_KEPT_426 + _BODY)
    read_head(conn)
    conn.sock.close()


def _closes_after_426(conn: Any) -> None:
    """A 426 that says nothing of the connection, then the connection closed."""
    read_head(conn)
    conn.sendall(_KEPT_426 + _BODY)
    conn.sock.close()


def _says_close_and_stays(conn: Any) -> None:
    """``Connection: close``, then nothing: a client that sent another request on the
    connection would wait for an answer until its timeout."""
    read_head(conn)
    conn.sendall(_CLOSING_426 + _BODY)
    read_head(conn)


def _spec(port: int) -> ConnectionSpec:
    return ConnectionSpec(Endpoint.from_url(f"http://127.0.0.1:{port}"), ClientTrust(), 5)


def _two_requests(behaviour: Any, method: str = "GET") -> tuple[list[Any], ConnectionPool, int]:
    """Two plain HTTP/1.1 requests in a row with a pool lent; the exchanges, the pool
    and how many connections the server accepted."""
    pool = ConnectionPool(host_limit=8)
    with zoo_server(behaviour) as server, lending(pool):
        spec = _spec(server.port)
        exchanges = [
            http1_exchange(spec, Request(method, "/v2/orders"), role="legacy") for _ in range(2)
        ]
        pool.close()
        return exchanges, pool, server.connections


# What the second of two requests in a row went over, and how many connections the
# pool opened, took again and the server accepted (either of the ways given).
TWO_REQUESTS = {
    "kept-alive": (_serves_426s, "GET", [False, True], {(1, 1, 1)}),
    # Only idempotent requests may be sent twice (RFC 9110 §9.2.2), so only they share.
    "post-of-its-own": (_serves_426s, "POST", [False, False], {(2, 0, 2)}),
    # RFC 9112 §9.3.1: the request the server dropped is sent again, never judged.
    "dropped-then-retried": (_answers_once_then_drops, "GET", [False, False], {(2, 1, 2)}),
    # The closed connection is seen closed before it is taken again, or (when its FIN
    # comes after the next request left) taken, found closed, and the request sent again.
    "closed-after-426": (_closes_after_426, "GET", [False, False], {(2, 0, 2), (2, 1, 2)}),
    # Connection: close is honoured (a request sent on it would wait for its timeout).
    "connection-close": (_says_close_and_stays, "GET", [False, False], {(2, 0, 2)}),
}


@pytest.mark.parametrize(
    ("behaviour", "method", "reused", "counts"), TWO_REQUESTS.values(), ids=TWO_REQUESTS
)
def test_two_plain_requests_in_a_row(
    behaviour: Any, method: str, reused: list[bool], counts: set[tuple[int, int, int]]
) -> None:
    started = time.monotonic()
    exchanges, pool, accepted = _two_requests(behaviour, method)
    assert [x.failure for x in exchanges] == [None, None]
    assert [x.response.status for x in exchanges] == [426, 426]
    assert [x.transport.reused for x in exchanges] == reused
    assert (pool.opened, pool.reused, accepted) in counts
    assert time.monotonic() - started < 3  # no request waited for a timeout


def test_kept_alive_connections_stay_within_the_host_limit() -> None:
    lock = threading.Lock()
    counts = {"open": 0, "most": 0}

    def counted(conn: Any) -> None:
        with lock:
            counts["open"] += 1
            counts["most"] = max(counts["most"], counts["open"])
        try:
            _serves_426s(conn)
        finally:
            with lock:
                counts["open"] -= 1

    with zoo_server(counted) as server:
        spec = _spec(server.port)
        target = Target(None, spec.endpoint, spec.trust)
        engine = ProbeEngine(timeout=5, concurrency=16, host_limit=3, reuse=True)
        probe = functools.partial(http1_exchange, spec, Request("GET", "/"), role="legacy")
        jobs = [engine.submit(ProbePlan((probe, probe, probe, probe), target)) for _ in range(10)]
        exchanges = [x for job in jobs for x in job.records()]
        assert engine.connections is not None
        opened, reused = engine.connections.opened, engine.connections.reused
        engine.close()
        deadline = time.monotonic() + 5
        while counts["open"] and time.monotonic() < deadline:
            time.sleep(0.05)
    assert all(x.response.status == 426 for x in exchanges)
    assert counts["most"] <= 3
    # 40 requests over a few connections.
    assert opened <= 6
    assert reused >= 34
    assert counts["open"] == 0  # the engine hung up the kept-alive ones


# -- HTTP/2 over TLS, against hypercorn -----------------------------------------------


async def _h2_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """HTTP/2 only: 200 over HTTP/2, a 426 naming h2 to anything else."""
    if scope["type"] != "http":
        return
    if scope["http_version"] == "2":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    headers = [(name.lower().encode(), value.encode()) for name, value in REFUSAL_HEADERS]
    await send({"type": "http.response.start", "status": 426, "headers": headers})
    await send({"type": "http.response.body", "body": _BODY})


class _TunedServer(UpgradeServer):
    """The bundled server with hypercorn settings of the test's."""

    def __init__(self, app: object, *, ca: BundledCA, **settings: object) -> None:
        super().__init__(app, ca=ca, on_connection=self._accepted)
        self._settings = settings
        self.accepted = 0

    def _accepted(self, _peer: str, _tls: str | None) -> None:
        self.accepted += 1

    def _listen_and_configure(self) -> Any:
        config = super()._listen_and_configure()
        for name, value in self._settings.items():
            setattr(config, name, value)
        return config


@pytest.fixture
def tuned() -> Iterator[Any]:
    ca = BundledCA()
    servers: list[_TunedServer] = []

    def start(**settings: object) -> _TunedServer:
        server = _TunedServer(_h2_app, ca=ca, **settings)
        server.start()
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()
        ca.close()


def _observe(target: Target, count: int, *, reuse: bool) -> tuple[list[Observation], Any]:
    """``count`` h2 requirements probed at once on one engine; their observations."""
    engine = ProbeEngine(timeout=5, concurrency=4, reuse=reuse)
    try:
        requirements = [Requirement("h2", f"/r{i}") for i in range(count)]
        jobs = [(r, engine.submit(plan_probes(r, target, timeout=5))) for r in requirements]
        observations = [
            assemble(r, target, job.records(), observed_at=job.started_at) for r, job in jobs
        ]
        return observations, engine.connections
    finally:
        engine.close()


def _statuses(observations: list[Observation]) -> set[tuple[str, int | None]]:
    return {
        (x.role, x.response.status if x.response else None)
        for o in observations
        for x in o.exchanges
        if x.role in ("legacy", "upgraded")
    }


def _reused(observations: list[Observation]) -> list[bool]:
    return [bool(x.transport and x.transport.reused) for o in observations for x in o.exchanges]


def _h2_in_a_row(server: _TunedServer, count: int) -> list[Any]:
    """``count`` HTTP/2 requests over TLS, one after another, with a pool lent."""
    target = server.target()
    spec = target.spec_for(target.https, 5)
    pool = ConnectionPool(host_limit=8)
    with lending(pool):
        exchanges = [
            http2_exchange(spec, Request("GET", f"/r{i}"), role="upgraded") for i in range(count)
        ]
    pool.close()
    assert [x.failure for x in exchanges] == [None] * count
    assert [x.response.status for x in exchanges] == [200] * count
    return exchanges


def test_http2_requests_share_connections_one_stream_at_a_time(tuned: Any) -> None:
    # A server that takes one stream at a time (SETTINGS_MAX_CONCURRENT_STREAMS 1).
    server = tuned(h2_max_concurrent_streams=1)
    exchanges = _h2_in_a_row(server, 4)
    assert [x.transport.reused for x in exchanges] == [False, True, True, True]
    assert server.accepted == 1
    # Requirements probed at once: the same answers with and without reuse.
    observations, _ = _observe(server.target(), 12, reuse=True)
    fresh, _ = _observe(server.target(), 12, reuse=False)
    assert _statuses(observations) == _statuses(fresh) == {("legacy", 426), ("upgraded", 200)}
    assert not any(_reused(fresh))


def test_goaway_mid_run_moves_the_requests_to_new_connections(tuned: Any) -> None:
    # hypercorn ends an HTTP/2 connection with GOAWAY (RFC 9113 §6.8) once it has taken
    # more than two requests: one request after another, every one is answered.
    server = tuned(keep_alive_max_requests=2)
    exchanges = _h2_in_a_row(server, 8)
    assert any(x.transport.reused for x in exchanges)
    assert server.accepted >= 3  # at most three requests reached one connection


# -- the plugin, as users run it --------------------------------------------------------


def _outcomes(document: dict[str, Any]) -> dict[str, Any]:
    return {
        e["nodeid"]: (e["verdict"], {c["id"]: c["outcome"] for c in e["checks"]})
        for e in document["results"]
    }


def test_the_verdicts_are_the_same_with_fresh_connections(
    pytester: pytest.Pytester, live_server: Any
) -> None:
    from support.protocol_apps import protocol_app_source

    target = live_server(protocol_app_source())
    documents = {}
    for mode, extra in (("kept", ()), ("fresh", ("--upgrade-fresh-connections",))):
        report = pytester.path / f"{mode}.json"
        pytester.runpytest(
            "-p",
            "no:cacheprovider",
            f"--upgrade-target={target.https_url}",
            f"--upgrade-target={target.http_url}",
            f"--upgrade-ca={target.cafile}",
            *(f"--upgrade-require={line}" for line in ("h2 /both", "h2c /internal")),
            *(f"--upgrade-require=HTTP/1.1 /legacy method={m}" for m in ("GET", "HEAD")),
            *(f"--upgrade-require=h2 /both method={m}" for m in ("HEAD", "OPTIONS", "DELETE")),
            f"--upgrade-report={report}",
            *extra,
        )
        documents[mode] = json.loads(report.read_text())
    assert _outcomes(documents["kept"]) == _outcomes(documents["fresh"])
    reused = {
        mode: [x["reused"] for e in document["results"] for x in e["exchanges"]]
        for mode, document in documents.items()
    }
    assert True in reused["kept"]
    assert True not in reused["fresh"]
