"""Exceptions the app's framework caught and logged while the probes ran.

Flask, Django and others catch what a view raises, answer 500 themselves and
log the exception (``flask.app``: "Exception on /orders [GET]",
``django.request``: "Internal Server Error: /orders"); nothing reaches the
server, so the bundled server's recording middleware sees no exception. A
handler on the root logger, installed only while a test's probes run, keeps
every record at ERROR or above that carries an exception, from any thread, so
the report shows the traceback the framework logged.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

__all__ = ["LoggedExceptions", "logged_exceptions"]

# Records kept per probe window: one traceback per failing probe is plenty.
_KEPT = 20


class LoggedExceptions(logging.Handler):
    """Formats each logged exception as "logged by NAME: MESSAGE" and its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self._records: list[str] = []
        self._guard = threading.Lock()
        self.setFormatter(logging.Formatter("logged by %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if not record.exc_info:
            return
        try:
            text = self.format(record)
        except Exception:  # a record that cannot be formatted is not the test's failure
            return
        with self._guard:
            if len(self._records) < _KEPT:
                self._records.append(text)

    def drain(self) -> list[str]:
        with self._guard:
            records, self._records = self._records, []
        return records


@contextlib.contextmanager
def logged_exceptions() -> Iterator[LoggedExceptions]:
    """Collect the exceptions logged (anywhere, by any thread) inside the block."""
    handler = LoggedExceptions()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
