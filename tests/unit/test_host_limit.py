"""The per-host limit counts every host a deployment's probes touch (issue 35): no sockets."""

from __future__ import annotations

import threading
import time
from collections import Counter
from functools import partial

from pytest_upgrade.probes.endpoint import ClientTrust, Endpoint
from pytest_upgrade.probes.engine import ProbeEngine, ProbePlan, probe_host
from pytest_upgrade.probes.http1 import http1_exchange
from pytest_upgrade.probes.spec import ConnectionSpec, Request
from pytest_upgrade.probes.target import HandshakeProbe, Target

CLEARTEXT = Endpoint.from_url("http://127.0.0.5:7080")


class Wire:
    """Counts the connections open at once to each host."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open: Counter[tuple[str, int]] = Counter()
        self.most: Counter[tuple[str, int]] = Counter()

    def connect(self, endpoint: Endpoint, *, role: str) -> None:
        host = (endpoint.host, endpoint.port)
        with self.lock:
            self.open[host] += 1
            self.most[host] = max(self.most[host], self.open[host])
        time.sleep(0.02)
        with self.lock:
            self.open[host] -= 1


def test_a_deployments_cleartext_host_is_counted_too() -> None:
    # 20 lines "https://127.0.0.2:84xx http://127.0.0.5:7080": one cleartext host.
    wire = Wire()
    engine = ProbeEngine(timeout=5, concurrency=20, host_limit=4)
    trust = ClientTrust()
    jobs = []
    for n in range(20):
        https = Endpoint.from_url(f"https://127.0.0.2:{8400 + n}")
        target = Target(https=https, http=CLEARTEXT, trust=trust)
        probes = [
            partial(wire.connect, https, role="legacy"),
            partial(wire.connect, CLEARTEXT, role="legacy"),
            partial(wire.connect, CLEARTEXT, role="upgraded"),
        ]
        jobs.append(engine.submit(ProbePlan(tuple(probes), target)))
    for job in jobs:
        assert job.finished.wait(10)
    engine.close()
    assert wire.most[("127.0.0.5", 7080)] <= 4
    assert wire.most[("127.0.0.5", 7080)] >= 2  # the limit, not a serial run
    assert all(most <= 4 for most in wire.most.values())


def test_a_probe_counts_against_the_host_it_connects_to() -> None:
    https = Endpoint.from_url("https://a.example:8443")
    target = Target(https=https, http=CLEARTEXT, trust=ClientTrust())
    assert probe_host(partial(Wire().connect, CLEARTEXT, role="legacy"), target) == (
        "127.0.0.5",
        7080,
    )
    # A plan's request probe: a partial over the probe function, its spec first.
    request = partial(http1_exchange, target.spec_for(CLEARTEXT, 1.0), Request("GET", "/"))
    assert probe_host(request, target) == ("127.0.0.5", 7080)
    handshake = HandshakeProbe(ConnectionSpec(https, ClientTrust(), 1.0), "TLSv1")
    assert probe_host(handshake, target) == ("a.example", 8443)
    # Through the session's handshake cache: a partial over the handshake probe.
    assert probe_host(partial(print, handshake), target) == ("a.example", 8443)
    # A probe that does not say: the target's primary host.
    assert probe_host(lambda: None, target) == ("a.example", 8443)
