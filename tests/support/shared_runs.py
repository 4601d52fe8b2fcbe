"""One inner pytest run that several tests of a module read, each its own items by id.

pytester is function-scoped, so a run a module-scoped fixture makes is started
here the way ``pytester.runpytest_subprocess`` starts one: a fresh interpreter
in a directory of its own, with the ini of every inner run (support.apps.INNER_INI)
and the environment tests/integration/conftest.py gives pytester's runs. The
short test summary of ``-rA`` names every item with its outcome; ``outcomes``
reads it, ``failure_text`` cuts one item's failure out of the output.
"""

from __future__ import annotations

import os
import pathlib
import re
import sys
import textwrap
import time
from collections.abc import Mapping

import pytest

from support.apps import INNER_INI
from support.processes import run_process

__all__ = ["failure_text", "outcomes", "run_once"]

# What tests/integration/conftest.py removes for pytester's runs, and pytester itself.
_DROPPED = ("CI", "BUILD_NUMBER", "GITHUB_STEP_SUMMARY", "PYTEST_ADDOPTS", "TOX_ENV_DIR")
_SUMMARY = re.compile(r"^(PASSED|FAILED|ERROR|XFAIL|XPASS) ([^\s:]+)::(\S+)")


def run_once(
    directory: pathlib.Path, files: Mapping[str, str], *args: str, timeout: float = 300
) -> pytest.RunResult:
    """Write ``files`` (name → source) into ``directory`` and run pytest there with ``-rA``."""
    for name, source in files.items():
        (directory / name).write_text(textwrap.dedent(source))
    (directory / "pytest.ini").write_text(INNER_INI)
    env = {name: value for name, value in os.environ.items() if name not in _DROPPED}
    env |= {"PYTEST_ADDOPTS": "-p no:randomly", "HOME": str(directory)}
    command = [sys.executable, "-m", "pytest", f"--basetemp={directory / 'basetemp'}"]
    started = time.monotonic()
    done = run_process(
        [*command, "-p", "no:cacheprovider", "-rA", *args], cwd=directory, env=env, timeout=timeout
    )
    return pytest.RunResult(
        done.returncode,
        done.stdout.splitlines(),
        done.stderr.splitlines(),
        time.monotonic() - started,
    )


def outcomes(result: pytest.RunResult, module: str) -> dict[str, str]:
    """Each item of ``module`` (a file name) the run reported, with its outcome."""
    found = {}
    for line in result.outlines:
        if (m := _SUMMARY.match(line)) and m[2] == module:
            found[m[3]] = m[1].lower()
    return found


def failure_text(result: pytest.RunResult, name: str) -> str:
    """The report of item ``name`` (a test function's name) in the failures or errors."""
    lines = result.outlines
    title = re.compile(rf"^_+ (ERROR at setup of )?{re.escape(name)} _+$")
    start = next((i for i, line in enumerate(lines) if title.match(line)), None)
    if start is None:
        raise AssertionError(f"no failure of {name} in the output:\n" + "\n".join(lines))
    end = next(
        (i for i in range(start + 1, len(lines)) if re.match(r"^(_{3,}|={3,}) ", lines[i])),
        len(lines),
    )
    return "\n".join(lines[start:end])
