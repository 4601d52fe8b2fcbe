"""Which requirements to probe ahead: a pure, incremental decision, no I/O, no pytest.

A :class:`Schedule` is told the requirements to come, in run order
(:meth:`~Schedule.add`), which item runs now (:meth:`~Schedule.current`),
which probes ended (:meth:`~Schedule.finished`), which results their items
took (:meth:`~Schedule.taken`) and which requirements will not run here
(:meth:`~Schedule.remove`: pytest-xdist gave their items to another worker);
:meth:`~Schedule.start` says which to start now. ``glue.ahead`` carries it out.
Each call costs a constant amount of work (a heap operation per host touched),
whatever the number of requirements waiting: a run of 10,000 requirements
asks no more of it per requirement than a run of ten.

Rules, in order of precedence:

* the running item's requirements are always eligible: the run never waits
  for a requirement that only the ahead budget holds back;
* at most ``concurrency`` requirements are in flight;
* at most ``ahead`` requirements are submitted and not yet taken (their
  results wait in memory for their items);
* a host takes a requirement only while its estimated connections stay within
  ``host_limit``, or when nothing else of it is in flight (so a requirement
  costing more than the limit still runs, alone; the engine's per-host slots
  bound the real connections in any case). A requirement its host cannot take
  now does not hold back later ones of other hosts.

Within those rules requirements start in run order (the running item's first).
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

__all__ = ["Entry", "Limits", "Schedule"]


@dataclass(frozen=True)
class Entry:
    """One requirement of an item still to run."""

    key: Hashable  # (item, requirement index)
    host: Hashable
    cost: int  # connections it is expected to hold at once


@dataclass(frozen=True)
class Limits:
    concurrency: int  # requirements in flight
    ahead: int  # requirements submitted and not yet taken
    host_limit: int  # connections at once per host


# Where an entry stands in the order: the running item's first, then run order.
_Rank = tuple[int, int]


class Schedule:
    """The requirements waiting, submitted and in flight, and the rules above."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._order = itertools.count()
        self._rank: dict[Hashable, _Rank] = {}  # every entry known and not taken or removed
        self._entries: dict[Hashable, Entry] = {}
        self._waiting: dict[Hashable, deque[Entry]] = {}  # by host, in rank order
        self._submitted: set[Hashable] = set()  # started, not yet taken
        self._running: set[Hashable] = set()  # started, not yet finished
        self._load: dict[Hashable, int] = {}  # estimated connections in flight, by host
        self._ready: list[tuple[_Rank, Hashable]] = []  # hosts that may start their first

    def __contains__(self, key: Hashable) -> bool:
        return key in self._rank

    @property
    def submitted(self) -> frozenset[Hashable]:
        return frozenset(self._submitted)

    @property
    def waiting(self) -> int:
        """How many requirements wait to be started."""
        return len(self._rank) - len(self._submitted)

    # -- what the run tells it --------------------------------------------------------
    def add(self, entries: Iterable[Entry]) -> None:
        """Requirements to come, after those added before (known ones are left as they are)."""
        for entry in entries:
            if entry.key not in self._rank:
                self._enqueue(entry, (1, next(self._order)))

    def current(self, entries: Iterable[Entry]) -> None:
        """The running item's requirements: first in line (added if they were not known)."""
        for entry in entries:
            if entry.key in self._submitted:
                continue
            if entry.key in self._rank:
                self._unqueue(entry.key)
            self._enqueue(entry, (0, next(self._order)))

    def finished(self, key: Hashable) -> None:
        """The probes of ``key`` ended: its host's connections and its slot are free."""
        if key in self._running:
            self._running.discard(key)
            self._release(self._entries[key])

    def taken(self, key: Hashable) -> None:
        """Its item took the result: its place in the ahead budget is free."""
        self.finished(key)
        self._submitted.discard(key)
        self._forget(key)

    def remove(self, key: Hashable) -> bool:
        """``key`` will not run here; True when it had been started (cancel its job)."""
        if key not in self._rank:
            return False
        started = key in self._submitted
        if started:
            self.taken(key)
        else:
            self._unqueue(key)
            self._forget(key)
        return started

    # -- the decision -------------------------------------------------------------------
    def start(self) -> list[Entry]:
        """What to start now, in order; each is counted as submitted and in flight."""
        started: list[Entry] = []
        while self._ready and len(self._running) < self.limits.concurrency:
            rank, host = heapq.heappop(self._ready)
            line = self._waiting.get(host)
            if not line or self._rank[line[0].key] != rank or not self._takes(host, line[0]):
                continue  # stale: the host's first changed, or it is full (re-offered later)
            entry = line[0]
            if rank[0] and len(self._submitted) >= self.limits.ahead:
                heapq.heappush(self._ready, (rank, host))
                break  # every later requirement is held back by the budget too
            line.popleft()
            self._submitted.add(entry.key)
            self._running.add(entry.key)
            self._load[host] = self._load.get(host, 0) + entry.cost
            started.append(entry)
            self._offer(host)
        return started

    # -- bookkeeping ----------------------------------------------------------------------
    def _takes(self, host: Hashable, entry: Entry) -> bool:
        load = self._load.get(host, 0)
        return not load or load + entry.cost <= self.limits.host_limit

    def _offer(self, host: Hashable) -> None:
        """Put ``host`` in line for its first waiting requirement, if it can take it."""
        line = self._waiting.get(host)
        if line and self._takes(host, line[0]):
            heapq.heappush(self._ready, (self._rank[line[0].key], host))

    def _enqueue(self, entry: Entry, rank: _Rank) -> None:
        self._rank[entry.key] = rank
        self._entries[entry.key] = entry
        line = self._waiting.setdefault(entry.host, deque())
        if rank[0] == 0:  # the running item's: after its others, before the rest
            at = next((i for i, e in enumerate(line) if self._rank[e.key][0]), len(line))
            line.insert(at, entry)
        else:
            line.append(entry)
        self._offer(entry.host)

    def _unqueue(self, key: Hashable) -> None:
        entry = self._entries[key]
        line = self._waiting[entry.host]
        line.remove(entry)  # rare: a requirement taken back, or run before its turn
        self._offer(entry.host)

    def _release(self, entry: Entry) -> None:
        load = self._load.get(entry.host, 0) - entry.cost
        if load > 0:
            self._load[entry.host] = load
        else:
            self._load.pop(entry.host, None)
        self._offer(entry.host)

    def _forget(self, key: Hashable) -> None:
        self._rank.pop(key, None)
        entry = self._entries.pop(key, None)
        if entry is not None and not self._waiting.get(entry.host):
            self._waiting.pop(entry.host, None)
