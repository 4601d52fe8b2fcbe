"""The one place that knows about pytest-xdist workers.

Under pytest-xdist the workers collect and run the tests; their results ride
on the test reports to the controller, which alone writes the terminal
sections and the report files.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

__all__ = ["is_xdist_worker", "worker_queue"]


def is_xdist_worker(config: pytest.Config) -> bool:
    """Whether this process is a pytest-xdist worker (not the controller or a plain run)."""
    return hasattr(config, "workerinput")


def worker_queue(config: pytest.Config) -> Callable[[], list[int]] | None:
    """A reader of this xdist worker's pending items; None when this is not a worker.

    The reader returns the indices (into ``session.items``) of the items the
    worker was given and has not started, in the order it will run them.
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
        return list

    def pending() -> list[int]:
        following = getattr(interactor, "nextitem_index", None)
        with lock() as queued:
            waiting = list(queued)
        return [i for i in (following, *waiting) if isinstance(i, int)]

    return pending
