"""``pytest-upgrade check`` and ``render`` as an operator runs them: a subprocess, in a
directory whose own pytest configuration must not be read, against the example app
on the bundled server.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from support.processes import run_process

DEMO_APP = pathlib.Path(__file__).parents[2] / "examples" / "demo" / "app.py"


@pytest.fixture
def workdir(tmp_path: pathlib.Path) -> pathlib.Path:
    """An operator's directory: the app, and a project configuration that would break a run."""
    shutil.copy(DEMO_APP, tmp_path / "app.py")
    (tmp_path / "conftest.py").write_text("raise RuntimeError('this conftest must not load')\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = --no-such-option\n")
    return tmp_path


def command(cwd: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_ADDOPTS", "CI"}}
    env.pop("GITHUB_STEP_SUMMARY", None)
    return run_process([sys.executable, "-m", "pytest_upgrade", *args], cwd=cwd, env=env)


def test_check_passes_with_exit_code_0_and_no_warning(workdir: pathlib.Path) -> None:
    done = command(workdir, "check", "--app", "app:app", "--require", "h2 /v2/orders", "-v")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "upgrade compliance" in done.stdout
    assert "1 requirement: 1 passed" in done.stdout
    assert "Warning" not in done.stdout + done.stderr
    assert "this conftest must not load" not in done.stdout + done.stderr


def test_check_fails_with_exit_code_1_and_the_report_renders_again(
    workdir: pathlib.Path,
) -> None:
    done = command(
        workdir,
        "check",
        "--upgrade-app=app:app",
        "--require=h2 /v2/orders",
        "--require",
        "h2 /reports",
        "--report",
        "out/r.json",
        "--html=out/run.html",
        "--markdown",
        "out/run.md",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED  h2 GET /reports [status-426]" in done.stdout
    assert "2 requirements: 1 passed, 1 failed" in done.stdout
    assert "Warning" not in done.stdout + done.stderr
    out = workdir / "out"
    rendered = command(
        workdir, "render", "out/r.json", "--html", "out/again.html", "--markdown", "out/again.md"
    )
    assert rendered.returncode == 0, rendered.stderr
    assert rendered.stdout.startswith("rendered 2 result(s) from out/r.json")
    assert (out / "again.html").read_text() == (out / "run.html").read_text()
    assert (out / "again.md").read_text() == (out / "run.md").read_text()


def test_nothing_to_check_is_exit_code_5(workdir: pathlib.Path) -> None:
    done = command(workdir, "check")
    assert done.returncode == 5, done.stdout + done.stderr


def test_a_bad_requirement_is_a_usage_error_4(workdir: pathlib.Path) -> None:
    done = command(workdir, "check", "--app", "app:app", "--require", "h9 /")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "h9" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_project_configuration_is_read_when_asked_for(workdir: pathlib.Path) -> None:
    (workdir / "conftest.py").write_text("")
    (workdir / "pytest.ini").write_text(
        "[pytest]\nupgrade_app = app:app\nupgrade_requirements =\n    h2 /v2/orders\n"
    )
    (workdir / "test_other.py").write_text("def test_not_run():\n    raise AssertionError\n")
    done = command(workdir, "check", "-c", "pytest.ini", "-v")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 requirement: 1 passed" in done.stdout
    assert "test_not_run" not in done.stdout
    assert "Warning" not in done.stdout + done.stderr


def test_the_warning_check_hides_is_real(workdir: pathlib.Path) -> None:
    # Where pytest-asyncio is installed and nothing sets its loop scope, a plain
    # pytest run shows its warning: the one check filters out.
    pytest.importorskip("pytest_asyncio")
    (workdir / "conftest.py").unlink()
    (workdir / "pytest.ini").write_text("[pytest]\n")
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_ADDOPTS", "CI"}}
    args = ["-p", "no:cacheprovider", "--upgrade-app=app:app", "--upgrade-require=h2 /v2/orders"]
    done = run_process([sys.executable, "-m", "pytest", *args], cwd=workdir, env=env)
    assert 'PytestDeprecationWarning: The configuration option "asyncio_default' in (
        done.stdout + done.stderr
    )
    assert command(workdir, "check", "-c", "pytest.ini", "-v").returncode == 5


def test_plain_pytest_without_configuration_warns_nothing(tmp_path: pathlib.Path) -> None:
    # pytest-asyncio is an extra (pytest-upgrade[asyncio]): a user who did not
    # install it runs without it, as `-p no:asyncio` does here.
    shutil.copy(DEMO_APP, tmp_path / "app.py")
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_ADDOPTS", "CI"}}
    args = ["-p", "no:asyncio", "-p", "no:cacheprovider", "-W", "error", "--upgrade-app=app:app"]
    argv = [sys.executable, "-m", "pytest", *args, "--upgrade-require=h2 /v2/orders"]
    done = run_process(argv, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout + done.stderr
    assert "1 passed" in done.stdout
