"""The one place that knows about pytest-xdist workers.

Under pytest-xdist the workers collect and run the tests; their results ride
on the test reports to the controller, which alone writes the terminal
sections and the report files.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest

from ..grammar import parse_calendar_date

__all__ = [
    "controller_as_of",
    "controller_value",
    "is_xdist_worker",
    "send_as_of",
    "send_value",
    "share_of",
    "worker_queue",
]

# The key of the run's evaluation date in each worker's ``workerinput``.
_AS_OF = "pytest_upgrade_as_of"
# The keys of the other values the controller decides once for its workers.
_PREFIX = "pytest_upgrade_"


def is_xdist_worker(config: pytest.Config) -> bool:
    """Whether this process is a pytest-xdist worker (not the controller or a plain run)."""
    return hasattr(config, "workerinput")


class _AsOfSender:
    """Gives every worker the controller's evaluation date as the worker starts."""

    def __init__(self, as_of: dt.date) -> None:
        self.as_of = as_of.isoformat()

    def pytest_configure_node(self, node: Any) -> None:  # an xdist hook
        node.workerinput[_AS_OF] = self.as_of


def send_as_of(config: pytest.Config, as_of: dt.date) -> None:
    """On an xdist controller: hand ``as_of`` to the workers (one date per run)."""
    if config.pluginmanager.hasplugin("xdist") and not is_xdist_worker(config):
        config.pluginmanager.register(_AsOfSender(as_of), "pytest-upgrade-as-of")


def controller_as_of(config: pytest.Config) -> dt.date | None:
    """On an xdist worker: the controller's evaluation date; else None."""
    workerinput = getattr(config, "workerinput", None)
    sent = workerinput.get(_AS_OF) if isinstance(workerinput, dict) else None
    return parse_calendar_date(sent) if isinstance(sent, str) else None


class _ValueSender:
    """Gives every worker one value the controller decided (``workerinput[key]``)."""

    def __init__(self, key: str, value: object) -> None:
        self.key = key
        self.value = value

    def pytest_configure_node(self, node: Any) -> None:  # an xdist hook
        node.workerinput[self.key] = self.value


def send_value(config: pytest.Config, name: str, value: object) -> None:
    """On an xdist controller: hand ``value`` (plain lists, strings and numbers) to the
    workers under ``name`` (the nodes a run's names resolved to: one answer per run)."""
    if config.pluginmanager.hasplugin("xdist") and not is_xdist_worker(config):
        key = _PREFIX + name
        config.pluginmanager.register(_ValueSender(key, value), "pytest-upgrade-" + name)


def controller_value(config: pytest.Config, name: str) -> object | None:
    """On an xdist worker: the value the controller sent under ``name``; else None."""
    workerinput = getattr(config, "workerinput", None)
    return workerinput.get(_PREFIX + name) if isinstance(workerinput, dict) else None


def share_of(config: pytest.Config, limit: int) -> int:
    """This process's share of a per-host connection ``limit`` that holds for the run.

    Each xdist worker runs its own probes: the run's limit is split between
    them (at least one each), so that N workers together never hold more
    than ``limit`` connections to one host (unless there are more workers
    than the limit allows connections). A plain run, or the controller, has it all.
    """
    workerinput = getattr(config, "workerinput", None)
    count = workerinput.get("workercount") if isinstance(workerinput, dict) else None
    if not isinstance(count, int) or count < 1:
        return limit
    return max(1, limit // count)


def worker_queue(config: pytest.Config) -> Callable[[int], list[int]] | None:
    """A reader of this xdist worker's pending items; None when this is not a worker.

    The reader returns the indices (into ``session.items``) of the first items
    (at most its argument) the worker was given and has not started, in the
    order it will run them.
    pytest-xdist's worker loop (``xdist.remote.WorkerInteractor``) keeps the
    next item's index and a queue of the others; the controller adds to that
    queue as the run goes, and may take items back from it (``--dist
    worksteal``). What it holds now is all a worker can know of its future.
    """
    if not is_xdist_worker(config):
        return None
    interactor = next(
        (p for p in config.pluginmanager.get_plugins() if type(p).__name__ == "WorkerInteractor"),
        None,
    )
    lock = getattr(getattr(interactor, "torun", None), "lock", None)
    if lock is None:  # another xdist: probe nothing ahead rather than guess
        return lambda limit: []

    def pending(limit: int) -> list[int]:
        following = getattr(interactor, "nextitem_index", None)
        with lock() as queued:
            waiting = list(itertools.islice(queued, limit))
        return [i for i in (following, *waiting) if isinstance(i, int)][:limit]

    return pending
