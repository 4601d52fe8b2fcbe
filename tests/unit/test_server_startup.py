"""Why the bundled server did not start, from what its thread recorded: no server runs."""

from __future__ import annotations

import pytest
from hypercorn.utils import LifespanFailureError, LifespanTimeoutError

from pytest_upgrade.server.loop import StartupAbortedError
from pytest_upgrade.server.recording import LifespanWatch
from pytest_upgrade.server.startup import failure_message, failure_traceback

TRACEBACK = 'Traceback (most recent call last):\n  File "app.py", line 3\nRuntimeError: db down\n'
RAISE_IT = ' (raise it: upgrade_server_options={"startup_timeout": 30})'


def watch(**fields: object) -> LifespanWatch:
    lifespan = LifespanWatch()
    for name, value in fields.items():
        setattr(lifespan, name, value)
    return lifespan


@pytest.mark.parametrize(
    ("failure", "lifespan", "message"),
    [
        (
            StartupAbortedError("the app failed to start: OSError: x"),
            watch(),
            "the app failed to start: OSError: x",
        ),
        (
            LifespanFailureError("startup", "db down"),
            watch(failed_message="db down"),
            "the app failed to start: lifespan.startup.failed: db down",
        ),
        (
            LifespanFailureError("startup", ""),
            watch(failed_message=TRACEBACK),
            "the app failed to start: RuntimeError: db down",
        ),
        (LifespanFailureError("startup", ""), watch(), "the app failed to start: (no message)"),
        (
            LifespanTimeoutError("startup"),
            watch(),
            "the app did not complete lifespan startup within 10.0 s" + RAISE_IT,
        ),
        (
            None,
            watch(startup_received=True),
            "the app did not complete lifespan startup within 10.0 s" + RAISE_IT,
        ),
        (OSError("no such file"), watch(), "hypercorn failed to start: OSError: no such file"),
        (None, watch(), "the server did not start within 10.0 s" + RAISE_IT),
    ],
    ids=[
        "aborted",
        "failed",
        "failed-traceback",
        "failed-silent",
        "timeout",
        "no-complete",
        "hypercorn",
        "silent",
    ],
)
def test_a_failed_start_is_one_line_naming_its_cause(
    failure: BaseException | None, lifespan: LifespanWatch, message: str
) -> None:
    assert failure_message(failure, lifespan, 10.0) == message


def test_the_apps_traceback_comes_with_the_message() -> None:
    failed = LifespanFailureError("startup", "")
    assert failure_traceback(failed, watch(failed_message=TRACEBACK)) == TRACEBACK
    assert failure_traceback(failed, watch(failed_message="db down")) == ""
    try:
        raise RuntimeError("db down")
    except RuntimeError as exc:
        raised = exc
    text = failure_traceback(None, watch(startup_exception=raised))
    assert text.startswith("Traceback")
    assert text.endswith("RuntimeError: db down\n")
    assert failure_traceback(None, watch()) == ""
