"""The probes' thread pool: :class:`ProbePool`, whose threads never hold up the exit.

``concurrent.futures.ThreadPoolExecutor`` joins its threads when the
interpreter exits, so a run interrupted (Ctrl-C, SIGTERM, ``-x``) while a
probe waits on a silent host cannot exit before that probe's timeout — a
minute with ``--upgrade-timeout=60``, deaf to a second Ctrl-C. A probe whose
result will never be reported is worth nothing: these threads are daemons,
and :meth:`ProbePool.shutdown` without ``wait`` abandons them.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

__all__ = ["ProbePool"]

T = TypeVar("T")

_Work = tuple[Future[Any], Callable[[], Any]]


class ProbePool:
    """At most ``max_workers`` daemon threads running submitted calls, in order."""

    def __init__(self, *, max_workers: int, thread_name_prefix: str) -> None:
        self._max = max_workers
        self._prefix = thread_name_prefix
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()
        self._shutdown = False

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("the probe pool is shut down")
            self._queue.put((future, fn))
            # A thread more while the work waiting outnumbers the threads waiting for it.
            if self._queue.qsize() > self._idle and len(self._threads) < self._max:
                thread = threading.Thread(
                    target=self._work,
                    name=f"{self._prefix}_{len(self._threads)}",
                    daemon=True,
                )
                self._threads.append(thread)
                thread.start()
        return future

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            work = self._queue.get()
            with self._lock:
                self._idle -= 1
            if work is None:
                return
            future, fn = work
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn())
                except BaseException as exc:  # handed to whoever waits
                    future.set_exception(exc)

    def shutdown(self, *, wait: float | None = None) -> None:
        """Cancel what has not started; wait for what runs, at most ``wait`` seconds in all
        (``None``: as long as it takes), then abandon it."""
        with self._lock:
            self._shutdown = True
            threads = list(self._threads)
        while True:
            try:
                work = self._queue.get_nowait()
            except queue.Empty:
                break
            if work is not None:
                work[0].cancel()
        for _ in threads:
            self._queue.put(None)
        deadline = None if wait is None else time.monotonic() + wait
        for thread in threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
