"""The probe-ahead planner (pure), the engine's per-host slots, and the handshake cache."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pytest

from pytest_upgrade._model import Exchange, HandshakeOutcome, Requirement, TlsHandshake
from pytest_upgrade.glue.planner import Entry, Limits, plan
from pytest_upgrade.probes.endpoint import ClientTrust, Endpoint
from pytest_upgrade.probes.engine import ProbeEngine, host_of
from pytest_upgrade.probes.target import HandshakeCache, HandshakeProbe, Target

LIMITS = Limits(concurrency=4, ahead=6, host_limit=4)


def entries(host: str, *numbers: int, cost: int = 2, current: bool = False) -> list[Entry]:
    return [Entry((host, n), host, cost, current=current) for n in numbers]


def keys(selected: tuple[Entry, ...]) -> list[object]:
    return [e.key for e in selected]


def test_starts_in_run_order_within_the_limits() -> None:
    upcoming = entries("a", 0, current=True) + entries("a", 1, 2) + entries("b", 3, 4, 5)
    decision = plan(upcoming, {}, set(), LIMITS)
    # Host a takes two requirements (4 connections); b fills the rest of the four.
    assert keys(decision.start) == [("a", 0), ("a", 1), ("b", 3), ("b", 4)]
    assert decision.drop == ()


def test_a_busy_host_does_not_hold_back_other_hosts() -> None:
    running = {("a", 0): Entry(("a", 0), "a", 2), ("a", 1): Entry(("a", 1), "a", 2)}
    upcoming = [*running.values(), *entries("a", 2, 3), *entries("b", 4)]
    decision = plan(upcoming, running, set(running), LIMITS)
    assert keys(decision.start) == [("b", 4)]


def test_an_idle_host_takes_a_requirement_costing_more_than_its_limit() -> None:
    decision = plan(entries("a", 0, 1, cost=9), {}, set(), LIMITS)
    assert keys(decision.start) == [("a", 0)]


def test_concurrency_counts_running_requirements_only() -> None:
    done = {("b", n): Entry(("b", n), "b", 2) for n in range(3)}
    upcoming = list(done.values()) + entries("c", 7, 8, 9)
    decision = plan(upcoming, done, set(), Limits(concurrency=2, ahead=10, host_limit=8))
    assert keys(decision.start) == [("c", 7), ("c", 8)]


def test_the_ahead_budget_bounds_results_waiting_for_their_items() -> None:
    done = {("b", n): Entry(("b", n), "b", 2) for n in range(6)}
    upcoming = list(done.values()) + entries("c", 7)
    assert plan(upcoming, done, set(), LIMITS).start == ()


def test_the_running_item_is_never_held_back_by_the_ahead_budget() -> None:
    done = {("b", n): Entry(("b", n), "b", 2) for n in range(6)}
    upcoming = entries("c", 7, current=True) + list(done.values())
    assert keys(plan(upcoming, done, set(), LIMITS).start) == [("c", 7)]


def test_submitted_work_no_longer_upcoming_is_dropped() -> None:
    # pytest-xdist gave the item to another worker (--dist worksteal).
    stolen = Entry(("a", 1), "a", 2)
    decision = plan(entries("a", 0, current=True), {stolen.key: stolen}, {stolen.key}, LIMITS)
    assert decision.drop == (("a", 1),)
    assert keys(decision.start) == [("a", 0)]  # its slots are free again


@dataclass
class Gauge:
    lock: threading.Lock = field(default_factory=threading.Lock)
    active: int = 0
    most: int = 0

    def probe(self) -> Exchange:
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
        time.sleep(0.02)
        with self.lock:
            self.active -= 1
        return Exchange(role="legacy", url="http://x/", method="GET", offered="HTTP/1.1")


def _target(port: int) -> Target:
    return Target(https=None, http=Endpoint("http", "127.0.0.1", port), trust=ClientTrust())


def test_the_engine_runs_at_most_host_limit_probes_per_host() -> None:
    engine = ProbeEngine(timeout=1, concurrency=8, host_limit=3)
    gauges = {port: Gauge() for port in (1, 2)}
    try:
        jobs = [
            engine.submit(Requirement("HTTP/1.1", "/"), _target(port), [gauge.probe] * 4)
            for port, gauge in gauges.items()
            for _ in range(3)
        ]
        for job in jobs:
            assert len(job.observation().exchanges) == 4
    finally:
        engine.close()
    assert [gauge.most for gauge in gauges.values()] == [3, 3]  # per host, not overall


def test_host_of_is_the_primary_endpoint_host_and_port() -> None:
    target = Target(
        https=Endpoint("https", "Example.org", 8443),
        http=Endpoint("http", "example.org", 8080),
        trust=ClientTrust(),
    )
    assert host_of(target) == ("example.org", 8443)


def test_a_closed_engine_refuses_work() -> None:
    engine = ProbeEngine(timeout=1)
    engine.close()
    with pytest.raises(RuntimeError, match="closed"):
        engine.submit(Requirement("HTTP/1.1", "/"), _target(1), [])


class CountingProbe(HandshakeProbe):
    calls: list[float]

    def __call__(self) -> TlsHandshake:
        self.calls.append(time.monotonic())
        time.sleep(0.1)
        outcome = self.outcome  # type: ignore[attr-defined]
        return TlsHandshake(self.version, outcome, "seen")


def _probe(outcome: HandshakeOutcome, calls: list[float]) -> CountingProbe:
    probe = CountingProbe(Endpoint("https", "127.0.0.1", 1), "TLSv1", ClientTrust(), 1.0)
    object.__setattr__(probe, "calls", calls)
    object.__setattr__(probe, "outcome", outcome)
    return probe


@pytest.mark.parametrize("outcome", [HandshakeOutcome.REFUSED, HandshakeOutcome.ERROR])
def test_handshakes_asked_at_once_are_asked_once(outcome: HandshakeOutcome) -> None:
    cache = HandshakeCache()
    calls: list[float] = []
    answers: list[TlsHandshake] = []

    def ask() -> None:
        answers.append(cache.handshake(_probe(outcome, calls)))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1  # the others waited and took its answer
    assert len({id(a) for a in answers}) == 1
    # Later: a conclusive answer is remembered; an inconclusive one is asked again.
    cache.handshake(_probe(outcome, calls))
    assert len(calls) == (1 if outcome is HandshakeOutcome.REFUSED else 2)
