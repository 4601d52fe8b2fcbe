from __future__ import annotations

import os
import pathlib
import re
from typing import Any

import pytest

from support.apps import INNER_INI
from support.matrix_servers import Certificates


@pytest.fixture(autouse=True)
def _inner_ini(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if "pytester" in request.fixturenames:
        request.getfixturevalue("pytester").makeini(INNER_INI)
        # pytest prints whole failure messages in the short summary when it
        # thinks it runs in CI; inner runs read the same everywhere.
        monkeypatch.delenv("CI", raising=False)
        monkeypatch.delenv("BUILD_NUMBER", raising=False)
        # Inner runs do not append their summaries to this run's CI page.
        monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
        # pytest-randomly shuffles this suite (its tests do not depend on their
        # order); the suites pytester writes keep their written order, which
        # their assertions on the output read, whatever ini file they write.
        monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:randomly")
        verdicts = os.environ.get("PYTEST_UPGRADE_VERDICTS")
        if verdicts:
            _capture_inner_runs(request, monkeypatch, pathlib.Path(verdicts))


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """The throw-away CA and 127.0.0.1 certificate every third-party server of a session
    presents and every inner run trusts through ``--upgrade-ca``."""
    return Certificates(tmp_path_factory.mktemp("certs"))


def _capture_inner_runs(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, directory: pathlib.Path
) -> None:
    """tools/verdicts.py: every inner run's ``-rA`` output, appended to one file per test
    (each run given the options after its ``--``, ``PYTEST_UPGRADE_VERDICTS_OPTIONS``)."""
    from tools.verdicts import normalise

    options = os.environ.get("PYTEST_UPGRADE_VERDICTS_OPTIONS", "")
    monkeypatch.setenv("PYTEST_ADDOPTS", f"-p no:randomly -rA {options}".strip())
    pytester = request.getfixturevalue("pytester")
    name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
    for method in ("runpytest_inprocess", "runpytest_subprocess"):
        original = getattr(pytester, method)

        def recorded(*args: object, _original: Any = original, **kwargs: object) -> Any:
            result = _original(*args, **kwargs)
            with (directory / f"{name}.txt").open("a") as sink:
                sink.write(normalise("\n".join(result.outlines)) + "\n----\n")
            return result

        monkeypatch.setattr(pytester, method, recorded)
