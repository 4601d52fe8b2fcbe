"""Why the bundled server did not start: one line naming the cause, and the app's traceback.

Pure: what the server thread recorded (its failure, the app's lifespan) in,
the text of the :class:`~pytest_upgrade.server.bundled.ServerStartError` out.
"""

from __future__ import annotations

from traceback import format_exception

from hypercorn.utils import LifespanFailureError, LifespanTimeoutError

from .loop import StartupAbortedError
from .recording import LifespanWatch, one_line, summary

__all__ = ["failure_message", "failure_traceback"]


def failure_message(
    failure: BaseException | None, lifespan: LifespanWatch, startup_timeout: float
) -> str:
    """The cause in one line; ``failure`` is what ended the server's loop (None: it runs)."""
    if isinstance(failure, StartupAbortedError):
        return str(failure)
    if isinstance(failure, LifespanFailureError):
        detail = _last_line(lifespan.failed_message or "") or "(no message)"
        return f"the app failed to start: {detail}"
    raise_it = f' (raise it: upgrade_server_options={{"startup_timeout": {startup_timeout * 3:g}}})'
    if isinstance(failure, LifespanTimeoutError) or (failure is None and lifespan.startup_received):
        return f"the app did not complete lifespan startup within {startup_timeout} s{raise_it}"
    if failure is not None:
        return f"hypercorn failed to start: {summary(failure)}"
    return f"the server did not start within {startup_timeout} s{raise_it}"


def failure_traceback(failure: BaseException | None, lifespan: LifespanWatch) -> str:
    """The app's traceback of a failed start, when there is one ("" otherwise)."""
    failed = lifespan.failed_message or ""
    if isinstance(failure, LifespanFailureError) and "\n" in failed.strip():
        return failed  # Starlette sends its traceback as the failure message
    exception = lifespan.startup_exception
    if exception is not None:
        return "".join(format_exception(exception))
    return ""


def _last_line(message: str) -> str:
    """The cause in one line: a traceback's last line ("RuntimeError: ..."), else the text."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith("Traceback"):
        return lines[-1]
    text = one_line(message)
    return f"lifespan.startup.failed: {text}" if text else ""
