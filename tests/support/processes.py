"""A command the tests run to its end, its output captured as text."""

from __future__ import annotations

import os
import pathlib
import subprocess
from collections.abc import Mapping, Sequence

__all__ = ["run_process"]


def run_process(
    argv: Sequence[str],
    *,
    cwd: pathlib.Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in ``cwd`` within ``timeout`` seconds; its exit code is the test's to judge.

    ``env`` is the whole environment (None: this process's).
    """
    return subprocess.run(
        list(argv),
        cwd=cwd,
        env=dict(os.environ if env is None else env),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
