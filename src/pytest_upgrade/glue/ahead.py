"""Probe ahead, report in order: :class:`ProbeAhead`, one per session (per xdist worker).

Against a live target a requirement waits on the network, not the CPU. When
an eligible item's probes are asked for, the probes of the eligible items
that follow it in run order are started as well (``glue.planner`` decides
which, within ``--upgrade-concurrency`` and ``--upgrade-host-limit``); each
item then takes its own observation when pytest runs it, so outcomes are
reported in pytest's order, unchanged.

Eligible are items without a test body of their own (declared requirements,
fleet items: ``_declared.test_requirement``), and with
``--upgrade-probe-ahead=all`` marked tests too, against a live target only.
The bundled server keeps one test at a time: its app errors and its
enforcement are attributed to the test running (``server.drain_errors()``,
``upgrade_enforce``), and loopback has no latency to hide.

Under pytest-xdist each worker probes ahead only for the items the
controller has given it (``workers.worker_queue``).
"""

from __future__ import annotations

import itertools
import queue
from collections.abc import Callable, Hashable, Sequence

import pytest

from .. import _declared
from .._model import Observation, Requirement
from ..probes.engine import Job, ProbeEngine, ProbePlan, host_of
from ..probes.target import Target
from ..protocols.planning import Circumstances, assemble, plan_probes
from .keys import INVALID, ITEM_TARGET, ITEM_UNRESOLVED, REQUIREMENTS
from .planner import Entry, Limits, Schedule
from .workers import worker_queue

__all__ = ["AHEAD", "ESTIMATED_CONNECTIONS", "ProbeAhead"]

# What one requirement in flight is expected to hold open against its host:
# its two request probes (TLS version handshakes are asked once per endpoint
# and session). The engine's per-host slots bound the real number.
ESTIMATED_CONNECTIONS = 2
# Requirements submitted and not yet taken, per requirement in flight.
_AHEAD_FACTOR = 2
# How many items past the running one are looked at (per requirement ahead).
_HORIZON_FACTOR = 4
# Skipped tests run no probe; a marked test that may be skipped is not probed ahead.
_SKIP_MARKERS = ("skip", "skipif")
# How long the session's end waits for probes still running before it abandons them.
_CLOSE_GRACE = 0.5


def _may_not_run(item: pytest.Item) -> bool:
    """Whether pytest may skip ``item`` before its fixtures (skip, skipif, xfail(run=False))."""
    if any(item.get_closest_marker(name) is not None for name in _SKIP_MARKERS):
        return True
    xfail = item.get_closest_marker("xfail")
    return xfail is not None and xfail.kwargs.get("run", True) is False


class ProbeAhead:
    """Observes requirements, probing upcoming eligible items concurrently.

    The items to come are read once each, as the run reaches them (a cursor
    over ``session.items``, or the first of the xdist worker's queue), and
    handed to the :class:`~.planner.Schedule`; what a requirement costs the
    scheduler does not grow with the number of requirements in the run.
    """

    def __init__(
        self,
        engine: ProbeEngine,
        *,
        mode: str = "declared",
        config: pytest.Config | None = None,
    ) -> None:
        self.engine = engine
        self.mode = mode
        self.limits = Limits(
            concurrency=engine.concurrency,
            ahead=_AHEAD_FACTOR * engine.concurrency,
            host_limit=engine.host_limit,
        )
        self.schedule = Schedule(self.limits)
        self._config = config
        self._pending: Callable[[int], list[int]] | None = None
        self._pending_known = False
        # By (id(item), requirement index): the items live as long as the session.
        self._jobs: dict[Hashable, Job] = {}
        self._keys: dict[int, Hashable] = {}  # id(job): its key
        self._work: dict[Hashable, tuple[Requirement, Target]] = {}
        # By id(item): whether (against what) it is probed ahead, its entries.
        self._targets: dict[int, Target | None] = {}
        self._entries: dict[int, tuple[Entry, ...]] = {}
        self._positions: dict[int, int] | None = None
        # The items handed to the schedule, by position (session.items) in run order.
        self._known: dict[int, tuple[Hashable, ...]] = {}
        self._cursor = 0  # a plain run's next position to read
        self._finished: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self.session_target: Target | None = None

    @property
    def enabled(self) -> bool:
        return self.engine.concurrency > 1

    # -- which items -----------------------------------------------------------
    def target_of(self, item: pytest.Item) -> Target | None:
        """The live target ``item`` is probed ahead against, or None if it is not eligible."""
        if id(item) in self._targets:
            return self._targets[id(item)]
        target: Target | None = None
        if (
            item.stash.get(REQUIREMENTS, None)
            and item.stash.get(INVALID, None) is None
            and item.stash.get(ITEM_UNRESOLVED, None) is None
        ):
            bodyless = getattr(item, "function", None) is _declared.test_requirement
            marked_ok = self.mode == "all" and not _may_not_run(item)
            candidate = item.stash.get(ITEM_TARGET, None) or self.session_target
            if (bodyless or marked_ok) and candidate is not None and not candidate.bundled:
                target = candidate
        self._targets[id(item)] = target
        return target

    def _item_entries(self, item: pytest.Item, target: Target) -> tuple[Entry, ...]:
        entries = self._entries.get(id(item))
        if entries is None:
            host = host_of(target)
            requirements = item.stash[REQUIREMENTS]
            keys = [(id(item), index) for index in range(len(requirements))]
            entries = tuple(Entry(key, host, ESTIMATED_CONNECTIONS) for key in keys)
            self._entries[id(item)] = entries
            for key, requirement in zip(keys, requirements, strict=True):
                self._work[key] = (requirement, target)
        return entries

    def _position(self, item: pytest.Item) -> int | None:
        if self._positions is None:
            self._positions = {id(it): i for i, it in enumerate(item.session.items)}
        return self._positions.get(id(item))

    def _read_ahead(self, item: pytest.Item) -> None:
        """Hand the schedule the items that follow ``item`` (enough to fill its budget)
        and take back what will not run here any more."""
        if not self._pending_known:  # read once xdist has set its worker up
            self._pending = worker_queue(self._config) if self._config is not None else None
            self._pending_known = True
        position = self._position(item)
        if position is None:
            return
        horizon = _HORIZON_FACTOR * self.limits.ahead
        enough = 2 * self.limits.ahead
        items = item.session.items
        upcoming: Sequence[int]
        if self._pending is not None:
            upcoming = self._pending(horizon)
            # Items the controller took back, or that ran (failed before their probes).
            for gone in self._known.keys() - {position, *upcoming}:
                self._forget_item(gone)
        else:
            # In a plain run items run in order: what is behind ``item`` will not run.
            for gone in list(itertools.takewhile(lambda p: p < position, self._known)):
                self._forget_item(gone)
            self._cursor = max(self._cursor, position + 1)
            end = min(len(items), position + 1 + horizon)
            upcoming = range(self._cursor, end)
        for index in upcoming:
            if self.schedule.waiting >= enough:
                break
            if self._pending is None:
                self._cursor = index + 1
            other = items[index]
            if index in self._known or other is item:
                continue
            other_target = self.target_of(other)
            if other_target is not None:
                entries = self._item_entries(other, other_target)
                self._known[index] = tuple(e.key for e in entries)
                self.schedule.add(entries)

    def _forget_item(self, position: int) -> None:
        for key in self._known.pop(position):
            if self.schedule.remove(key):
                self._jobs.pop(key).cancel()
            self._work.pop(key, None)

    # -- the run -------------------------------------------------------------------
    def plan(self, requirement: Requirement, target: Target) -> ProbePlan:
        """The probes of ``requirement`` against ``target``, for the engine."""
        return plan_probes(requirement, target, timeout=self.engine.timeout)

    def observe(
        self,
        item: pytest.Item,
        index: int,
        requirement: Requirement,
        target: Target,
        circumstances: Callable[[], Circumstances] = Circumstances,
    ) -> Observation:
        """The Observation of ``item``'s requirement number ``index``; ``circumstances``
        tells the rest of it once its probes are done (the bundled server's record)."""
        if not self.enabled or self.target_of(item) is not target:
            now = self.engine.submit(self.plan(requirement, target))
            return _observation(requirement, target, now, circumstances)
        key = (id(item), index)
        position = self._position(item)
        entries = self._item_entries(item, target)
        if position is not None and position not in self._known:
            self._known[position] = tuple(e.key for e in entries)
        self.schedule.current(entries[index:])
        while True:
            self._refill(item)
            job = self._jobs.get(key)
            if job is not None and job.done():
                del self._jobs[key], self._keys[id(job)]
                self._work.pop(key, None)
                self.schedule.taken(key)
                if index + 1 == len(item.stash[REQUIREMENTS]):
                    self._entries.pop(id(item), None)
                    if position is not None:
                        self._known.pop(position, None)
                return _observation(requirement, target, job, circumstances)
            # Wake up when any job ends (a probe's own timeout bounds each).
            try:
                finished = self._finished.get(timeout=self.engine.timeout)
            except queue.Empty:
                continue
            self._ended(finished)

    def _ended(self, job: Job) -> None:
        key = self._keys.get(id(job))
        if key is not None:
            self.schedule.finished(key)

    def _refill(self, item: pytest.Item) -> None:
        while not self._finished.empty():
            self._ended(self._finished.get_nowait())
        self._read_ahead(item)
        for entry in self.schedule.start():
            requirement, entry_target = self._work[entry.key]
            job = self.engine.submit(
                self.plan(requirement, entry_target), on_done=self._finished.put
            )
            self._jobs[entry.key] = job
            self._keys[id(job)] = entry.key

    def cancel(self) -> None:
        """Drop the work probed ahead (an interrupted or finished session): bounded, no
        wait; and hang up the kept-alive connections, before the session's servers stop."""
        self.engine.hang_up()
        for job in self._jobs.values():
            job.cancel()
        self._jobs.clear()
        self._keys.clear()
        self.schedule = Schedule(self.limits)

    def close(self) -> None:
        """Drop what was probed ahead; give the probes still running a moment to end
        (a finished run has none), then abandon them: their results would never be
        reported, and the process exits without waiting for their timeouts."""
        self.cancel()
        self.engine.close(wait=_CLOSE_GRACE)


def _observation(
    requirement: Requirement, target: Target, job: Job, circumstances: Callable[[], Circumstances]
) -> Observation:
    """The Observation of ``requirement`` from its job (waits for it; re-raises a probe's bug)."""
    made = job.records()
    return assemble(
        requirement, target, made, observed_at=job.started_at, circumstances=circumstances()
    )


AHEAD = pytest.StashKey[ProbeAhead]()
