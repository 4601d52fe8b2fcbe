"""Which requirements to probe ahead: a pure decision, no I/O, no pytest.

Given the requirements still to come (in run order, the running item's
first), the ones already submitted, and the limits, :func:`plan` says which to
start now and which submitted ones to drop (their items will not run here:
pytest-xdist gave them to another worker). ``glue.ahead`` carries it out.

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
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence, Set
from dataclasses import dataclass

__all__ = ["Entry", "Limits", "Plan", "plan"]


@dataclass(frozen=True)
class Entry:
    """One requirement of an item still to run."""

    key: Hashable  # (item, requirement index)
    host: Hashable
    cost: int  # connections it is expected to hold at once
    current: bool = False  # of the item running now


@dataclass(frozen=True)
class Limits:
    concurrency: int  # requirements in flight
    ahead: int  # requirements submitted and not yet taken
    host_limit: int  # connections at once per host


@dataclass(frozen=True)
class Plan:
    start: tuple[Entry, ...]
    drop: tuple[Hashable, ...]


def plan(
    upcoming: Sequence[Entry],
    submitted: Mapping[Hashable, Entry],
    running: Set[Hashable],
    limits: Limits,
) -> Plan:
    """What to start and what to drop; ``running`` are the submitted keys not yet done."""
    wanted = {entry.key for entry in upcoming}
    drop = tuple(key for key in submitted if key not in wanted)
    dropped = set(drop)
    in_flight = sum(1 for key in running if key not in dropped)
    pending = len(submitted) - len(dropped)
    load: dict[Hashable, int] = {}
    for key in running:
        if key not in dropped:
            entry = submitted[key]
            load[entry.host] = load.get(entry.host, 0) + entry.cost
    start: list[Entry] = []
    for entry in upcoming:
        if in_flight >= limits.concurrency:
            break
        if entry.key in submitted:
            continue
        if not entry.current and pending >= limits.ahead:
            break
        host_load = load.get(entry.host, 0)
        if host_load and host_load + entry.cost > limits.host_limit:
            continue
        start.append(entry)
        load[entry.host] = host_load + entry.cost
        in_flight += 1
        pending += 1
    return Plan(tuple(start), drop)
