"""SIGTERM is Ctrl-C: a CI job's timeout still leaves complete, marked reports.

A CI runner that cancels or times out a job sends SIGTERM, whose default
action ends the process at once: no JSON, HTML, Markdown or JUnit report is
written, though the results of everything that ran were in hand. While the
session runs, SIGTERM raises ``KeyboardInterrupt`` in the main thread
instead, so pytest ends the session as it does on Ctrl-C: the reports are
written, marked ``interrupted`` (glue.reports). A second SIGTERM ends the
process at once, as the first would have without the plugin.

Installed only where SIGTERM still has its default action (nobody else
handles it), in the main thread, outside pytest-xdist workers (the
controller stops them); restored when the session is unconfigured.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

import pytest

from .workers import is_xdist_worker

__all__ = []  # a pytest plugin: hooks only

_PREVIOUS = pytest.StashKey[Any]()


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # A second SIGTERM (the reports are being written, or something hangs) ends it now.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise KeyboardInterrupt("SIGTERM")


def pytest_configure(config: pytest.Config) -> None:
    sigterm = getattr(signal, "SIGTERM", None)
    if (
        sigterm is None
        or threading.current_thread() is not threading.main_thread()
        or is_xdist_worker(config)
        or signal.getsignal(sigterm) is not signal.SIG_DFL
    ):
        return
    config.stash[_PREVIOUS] = signal.signal(sigterm, _on_sigterm)


def pytest_unconfigure(config: pytest.Config) -> None:
    previous = config.stash.get(_PREVIOUS, None)
    if previous is not None and signal.getsignal(signal.SIGTERM) is _on_sigterm:
        signal.signal(signal.SIGTERM, previous)
