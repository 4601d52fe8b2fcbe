"""The probe-ahead planner (pure), the engine's per-host slots, and the handshake cache."""

from __future__ import annotations

import heapq
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from pytest_upgrade._model import Exchange, HandshakeOutcome, Requirement, TlsHandshake
from pytest_upgrade.glue.planner import Entry, Limits, Schedule
from pytest_upgrade.probes.endpoint import ClientTrust, Endpoint
from pytest_upgrade.probes.engine import ProbeEngine, ProbePlan, host_of
from pytest_upgrade.probes.spec import ConnectionSpec
from pytest_upgrade.probes.target import HandshakeCache, HandshakeProbe, Target
from support.observations import OBSERVED_AT, exchange, handshake

LIMITS = Limits(concurrency=4, ahead=6, host_limit=4)


def entries(host: str, *numbers: int, cost: int = 2) -> list[Entry]:
    return [Entry((host, n), host, cost) for n in numbers]


def keys(selected: list[Entry]) -> list[object]:
    return [e.key for e in selected]


def schedule(*upcoming: list[Entry], limits: Limits = LIMITS) -> Schedule:
    plan = Schedule(limits)
    for group in upcoming:
        plan.add(group)
    return plan


def test_starts_in_run_order_within_the_limits() -> None:
    plan = schedule(entries("a", 0, 1, 2), entries("b", 3, 4, 5))
    # Host a takes two requirements (4 connections); b fills the rest of the four.
    assert keys(plan.start()) == [("a", 0), ("a", 1), ("b", 3), ("b", 4)]
    assert plan.start() == []  # four in flight


def test_a_busy_host_does_not_hold_back_other_hosts() -> None:
    plan = schedule(entries("a", 0, 1, 2, 3))
    assert keys(plan.start()) == [("a", 0), ("a", 1)]
    plan.add(entries("b", 4))
    assert keys(plan.start()) == [("b", 4)]


def test_a_host_takes_more_when_its_connections_are_free() -> None:
    plan = schedule(entries("a", 0, 1, 2, 3))
    plan.start()
    plan.finished(("a", 0))
    assert keys(plan.start()) == [("a", 2)]


def test_an_idle_host_takes_a_requirement_costing_more_than_its_limit() -> None:
    plan = schedule(entries("a", 0, 1, cost=9))
    assert keys(plan.start()) == [("a", 0)]
    plan.finished(("a", 0))
    assert keys(plan.start()) == [("a", 1)]


def test_concurrency_counts_running_requirements_only() -> None:
    plan = schedule(entries("b", 0, 1, 2), limits=Limits(concurrency=2, ahead=10, host_limit=8))
    assert keys(plan.start()) == [("b", 0), ("b", 1)]
    plan.finished(("b", 0))  # done, its result not yet taken
    assert keys(plan.start()) == [("b", 2)]


def finish_all(plan: Schedule) -> None:
    """Start what can start and let it finish, until nothing more starts."""
    while started := plan.start():
        for entry in started:
            plan.finished(entry.key)


def test_the_ahead_budget_bounds_results_waiting_for_their_items() -> None:
    plan = schedule(*(entries(host, 0, 1) for host in "bcd"), entries("e", 7))
    finish_all(plan)
    assert len(plan.submitted) == 6  # six results wait for their items: the budget
    assert plan.start() == []
    plan.taken(("b", 0))
    assert keys(plan.start()) == [("e", 7)]


def test_the_running_item_is_never_held_back_by_the_ahead_budget() -> None:
    plan = schedule(*(entries(host, 0, 1) for host in "bcd"), entries("c", 7))
    finish_all(plan)
    assert ("c", 7) not in plan.submitted
    plan.current(entries("c", 7))
    assert keys(plan.start()) == [("c", 7)]


def test_the_running_item_goes_first() -> None:
    plan = schedule(entries("a", 0, 1, 2, 3), limits=Limits(concurrency=1, ahead=8, host_limit=8))
    plan.current(entries("a", 2, 3))
    assert keys(plan.start()) == [("a", 2)]
    plan.finished(("a", 2))
    assert keys(plan.start()) == [("a", 3)]  # its own, in their order, before the others
    plan.finished(("a", 3))
    assert keys(plan.start()) == [("a", 0)]


def test_work_taken_back_is_dropped_and_frees_its_slots() -> None:
    # pytest-xdist gave the item to another worker (--dist worksteal).
    plan = schedule(entries("a", 0, 1, 2), limits=Limits(concurrency=2, ahead=8, host_limit=8))
    plan.start()
    assert plan.remove(("a", 1)) is True  # started: its job is cancelled
    assert plan.remove(("a", 2)) is False  # never started
    assert plan.remove(("a", 9)) is False  # never known
    plan.add(entries("b", 3))
    assert keys(plan.start()) == [("b", 3)]
    assert ("a", 2) not in plan


def test_a_requirement_costs_the_schedule_the_same_in_a_long_run() -> None:
    # Each call does a bounded amount of work: 10,000 requirements go through
    # in about as many heap operations per requirement as 100 do.
    def operations(count: int) -> float:
        plan = Schedule(Limits(concurrency=32, ahead=64, host_limit=8))
        calls = 0
        original = heapq.heappop

        def counting(heap: list[Any]) -> Any:
            nonlocal calls
            calls += 1
            return original(heap)

        heapq.heappop = counting
        try:
            for n in range(count):
                plan.add(entries(f"h{n % 50}", n))
                for entry in plan.start():
                    plan.taken(entry.key)
        finally:
            heapq.heappop = original
        return calls / count

    assert operations(10_000) <= 1.5 * operations(100)


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
        return exchange("legacy", url="http://x/", offered="HTTP/1.1")


def _target(port: int) -> Target:
    return Target(https=None, http=Endpoint("http", "127.0.0.1", port), trust=ClientTrust())


def test_the_engine_runs_at_most_host_limit_probes_per_host() -> None:
    engine = ProbeEngine(timeout=1, concurrency=8, host_limit=3)
    gauges = {port: Gauge() for port in (1, 2)}
    try:
        jobs = [
            engine.submit(ProbePlan((gauge.probe,) * 4, _target(port)))
            for port, gauge in gauges.items()
            for _ in range(3)
        ]
        for job in jobs:
            assert len(job.records()) == 4
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
        engine.submit(ProbePlan((), _target(1)))


class CountingProbe(HandshakeProbe):
    calls: list[float]

    def __call__(self) -> TlsHandshake:
        self.calls.append(time.monotonic())
        time.sleep(0.1)
        outcome = self.outcome  # type: ignore[attr-defined]
        return handshake(self.version, outcome, "seen")


def _probe(outcome: HandshakeOutcome, calls: list[float]) -> CountingProbe:
    probe = CountingProbe(
        ConnectionSpec(Endpoint("https", "127.0.0.1", 1), ClientTrust(), 1.0), "TLSv1"
    )
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


@pytest.mark.parametrize("cached", [True, False])
def test_the_engine_answers_handshakes_through_its_cache(cached: bool) -> None:
    calls: list[float] = []
    engine = ProbeEngine(timeout=1, handshakes=HandshakeCache() if cached else None)
    probe = _probe(HandshakeOutcome.REFUSED, calls)
    try:
        first = engine.submit(ProbePlan((probe,), _target(1))).records()
        again = engine.submit(ProbePlan((probe,), _target(1))).records()
    finally:
        engine.close()
    assert len(calls) == (1 if cached else 2)
    assert (first[0] is again[0]) is cached  # the remembered answer, not a new one


# -- the scheduler, with stand-ins for pytest's items and the engine ------------------


@dataclass(frozen=True)
class FakePlan:
    requirement: Requirement
    target: Target


class FakeJob:
    started_at = OBSERVED_AT

    def __init__(self, plan: FakePlan, on_done: object) -> None:
        self.requirement = plan.requirement
        self.ahead = on_done is not None  # probed ahead, not when its item ran
        self.on_done = on_done
        self.cancelled = False
        self.finished = on_done is None

    def done(self) -> bool:
        return self.finished

    def finish(self) -> None:
        self.finished = True
        self.on_done(self)

    def cancel(self) -> None:
        self.cancelled = True

    def records(self) -> list[Exchange]:
        return []


class FakeEngine:
    timeout = 0.01

    def __init__(self, concurrency: int, host_limit: int = 8) -> None:
        self.concurrency = concurrency
        self.host_limit = host_limit
        self.jobs: list[FakeJob] = []

    def submit(self, plan: FakePlan, on_done: object = None) -> FakeJob:
        job = FakeJob(plan, on_done)
        self.jobs.append(job)
        return job

    def ahead(self) -> list[str]:
        """The paths probed ahead, in the order they were submitted."""
        return [job.requirement.path for job in self.jobs if job.ahead]

    def serial(self) -> list[str]:
        """The paths probed when their item ran."""
        return [job.requirement.path for job in self.jobs if not job.ahead]


class FakeSession:
    items: list[object]


class FakeItem:
    def __init__(self, session: FakeSession, path: str, *, declared: bool = True) -> None:
        from pytest_upgrade import _declared
        from pytest_upgrade.glue.keys import REQUIREMENTS

        self.session = session
        self.stash = pytest.Stash()
        self.stash[REQUIREMENTS] = (Requirement("HTTP/1.1", path),)
        self.function = _declared.test_requirement if declared else (lambda: None)

    markers: dict[str, pytest.Mark] = {}  # noqa: RUF012 (replaced per instance by tests)

    def get_closest_marker(self, name: str) -> pytest.Mark | None:
        return self.markers.get(name)


def _finish_soon(engine: FakeEngine, index: int) -> None:
    """Finish job number ``index`` in a moment (while the scheduler waits for it)."""

    def finish() -> None:
        engine.jobs[index].finish()

    threading.Timer(0.05, finish).start()


def _scheduler(concurrency: int, paths: list[str], **kw: bool) -> tuple[Any, list[FakeItem]]:
    from pytest_upgrade.glue.ahead import ProbeAhead

    session = FakeSession()
    items = [FakeItem(session, path, **kw) for path in paths]
    session.items = list(items)
    ahead = ProbeAhead(FakeEngine(concurrency))
    ahead.plan = FakePlan  # type: ignore[method-assign,assignment]  (the engine is a stand-in too)
    ahead.session_target = _target(80)
    return ahead, items


def test_the_scheduler_probes_upcoming_items_and_hands_each_its_own() -> None:
    ahead, items = _scheduler(3, ["/0", "/1", "/2", "/3", "/4"])
    engine = ahead.engine
    target = ahead.session_target
    _finish_soon(engine, 0)
    observed = ahead.observe(items[0], 0, Requirement("HTTP/1.1", "/0"), target)
    assert observed.requirement.path == "/0"
    # Three in flight at first; when /0 ended, /3 took its slot.
    assert engine.ahead() == ["/0", "/1", "/2", "/3"]
    engine.jobs[1].finish()
    assert (
        ahead.observe(items[1], 0, Requirement("HTTP/1.1", "/1"), target).requirement.path == "/1"
    )
    assert engine.ahead() == ["/0", "/1", "/2", "/3", "/4"]


def test_the_scheduler_drops_work_for_items_taken_back() -> None:
    ahead, items = _scheduler(4, ["/0", "/1", "/2", "/3"])
    engine = ahead.engine
    target = ahead.session_target
    queue = [1, 2, 3]
    ahead._pending_known = True
    ahead._pending = lambda limit: queue[:limit]
    _finish_soon(engine, 0)
    ahead.observe(items[0], 0, Requirement("HTTP/1.1", "/0"), target)
    assert engine.ahead() == ["/0", "/1", "/2", "/3"]
    queue[:] = [2]  # xdist's worksteal took /1 and /3 away; /2 runs next
    _finish_soon(engine, 2)
    assert (
        ahead.observe(items[2], 0, Requirement("HTTP/1.1", "/2"), target).requirement.path == "/2"
    )
    assert [j.cancelled for j in engine.jobs] == [False, True, False, True]


def test_items_with_a_body_run_serially_by_default() -> None:
    ahead, items = _scheduler(4, ["/0", "/1"], declared=False)
    target = ahead.session_target
    ahead.observe(items[0], 0, Requirement("HTTP/1.1", "/0"), target)
    assert (ahead.engine.serial(), ahead.engine.ahead()) == (["/0"], [])


@pytest.mark.parametrize(
    ("marker", "eligible"),
    [
        (None, True),
        (pytest.mark.skip.mark, False),
        (pytest.mark.skipif(True).mark, False),
        (pytest.mark.xfail(run=False).mark, False),
        (pytest.mark.xfail.mark, True),
    ],
)
def test_marked_tests_that_may_not_run_are_not_probed_ahead(
    marker: pytest.Mark | None, eligible: bool
) -> None:
    ahead, (item,) = _scheduler(4, ["/0"], declared=False)
    ahead.mode = "all"
    item.markers = {marker.name: marker} if marker is not None else {}
    assert (ahead.target_of(item) is not None) is eligible


def test_the_bundled_server_is_probed_one_test_at_a_time() -> None:
    # Its app errors and enforcement are attributed to the test running.
    ahead, items = _scheduler(4, ["/0", "/1"])
    bundled = Target(
        https=None, http=Endpoint("http", "127.0.0.1", 8080), trust=ClientTrust(), bundled=True
    )
    ahead.session_target = bundled
    ahead.observe(items[0], 0, Requirement("HTTP/1.1", "/0"), bundled)
    assert (ahead.engine.serial(), ahead.engine.ahead()) == (["/0"], [])


@pytest.mark.parametrize(
    ("workerinput", "share"),
    [
        (None, 8),
        ({"workercount": 2}, 4),
        ({"workercount": 3}, 2),
        ({"workercount": 16}, 1),
        ({}, 8),
    ],
)
def test_each_xdist_worker_takes_its_share_of_the_host_limit(
    workerinput: dict[str, int] | None, share: int
) -> None:
    from types import SimpleNamespace

    from pytest_upgrade.glue.workers import share_of

    config = SimpleNamespace() if workerinput is None else SimpleNamespace(workerinput=workerinput)
    assert share_of(config, 8) == share  # type: ignore[arg-type]  (a stand-in config)
