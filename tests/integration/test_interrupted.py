"""Interrupted fleet runs, as an operator interrupts them (issue 35): Ctrl-C and
SIGTERM mid-run leave complete reports marked ``interrupted``, the process
exits within seconds though probes are still waiting on a silent host, and
``-x`` does not wait for probes whose results will never be reported.

Each run is a real ``pytest`` process (signals go to it, not to this one)
against live hypercorn targets and a host that accepts and never answers.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from support import hostile
from support.apps import app_source

# Long enough that a run waiting for the silent host's probes could not
# pass the bounds below: the process must abandon them, not outwait them.
PROBE_TIMEOUT = 60
# From the signal to the process's exit, reports written: generous for a loaded machine.
EXIT_BOUND = 10.0
# pytest-xdist's controller gives busy workers this long to stop before it
# kills them (NodeManager.EXIT_TIMEOUT); the reports are written before that.
XDIST_TEARDOWN = 10.0


@pytest.fixture
def silent() -> Iterator[str]:
    with hostile.zoo_server(hostile.silent) as server:
        yield server.url("http")


def _targets(path: pathlib.Path, good: list[str], silent: str, silent_count: int) -> pathlib.Path:
    lines = [f"{url} name=good{n}" for n, url in enumerate(good)]
    lines += [f"{silent}/n{n} name=silent{n}" for n in range(silent_count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _start(tmp_path: pathlib.Path, targets: pathlib.Path, *args: str) -> subprocess.Popen[bytes]:
    out = tmp_path / "out"
    command = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-v",
        f"--upgrade-targets-file={targets}", "--upgrade-require=h2c /v2/orders",
        f"--upgrade-timeout={PROBE_TIMEOUT}",
        f"--upgrade-report={out / 'report.json'}", f"--upgrade-html={out / 'report.html'}",
        f"--upgrade-markdown={out / 'summary.md'}", f"--junitxml={out / 'junit.xml'}",
        *args,
    ]  # fmt: skip
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("GITHUB_STEP_SUMMARY", None)
    with (tmp_path / "log.txt").open("wb") as log:
        return subprocess.Popen(
            command, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, env=env
        )


def _wait_for(tmp_path: pathlib.Path, text: str, count: int, bound: float = 60.0) -> None:
    end = time.monotonic() + bound
    while time.monotonic() < end:
        log = (tmp_path / "log.txt").read_text(errors="replace")
        if log.count(text) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not seen {count} times:\n{log}")


@pytest.mark.parametrize(
    ("signum", "xdist"),
    [(signal.SIGTERM, []), (signal.SIGINT, []), (signal.SIGTERM, ["-n", "2"])],
    ids=["SIGTERM", "Ctrl-C", "SIGTERM-xdist"],
)
def test_an_interrupted_run_writes_marked_reports_and_exits_promptly(
    tmp_path: pathlib.Path, live_server, silent: str, signum: signal.Signals, xdist: list[str]
) -> None:
    good = [live_server(app_source()).http_url for _ in range(2)]
    targets = _targets(tmp_path / "targets.txt", good, silent, 3)
    process = _start(tmp_path, targets, "--upgrade-concurrency=4", *xdist)
    try:
        _wait_for(tmp_path, "%]", 2)  # two deployments reported
        time.sleep(0.5)  # the first silent deployment's probes are now waiting
        sent, sent_at = time.monotonic(), time.time()
        process.send_signal(signum)
        code = process.wait(timeout=PROBE_TIMEOUT)
        elapsed = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    log = (tmp_path / "log.txt").read_text(errors="replace")
    written = (tmp_path / "out" / "report.json").stat().st_mtime - sent_at
    assert written < EXIT_BOUND, log
    assert elapsed < EXIT_BOUND + (XDIST_TEARDOWN if xdist else 0), log
    assert code == pytest.ExitCode.INTERRUPTED, log
    assert "interrupted: 2 of 5 selected requirement(s) reported" in log
    out = tmp_path / "out"
    document = json.loads((out / "report.json").read_text())
    assert document["interrupted"] is True
    assert document["requirements"] == {"collected": 5, "selected": 5, "reported": 2}
    assert [r["deployment"] for r in document["results"]] == ["good0", "good1"]
    assert "interrupted: 2 of 5 selected" in (out / "report.html").read_text()
    summary = (out / "summary.md").read_text()
    assert summary.startswith("## Upgrade compliance: ‼ interrupted: 2 of 5 selected")
    assert (out / "junit.xml").read_text().count("<testcase") >= 2


def test_x_does_not_wait_for_the_probes_ahead(
    tmp_path: pathlib.Path, live_server, silent: str
) -> None:
    bad = live_server(app_source(legacy_status=200)).http_url
    targets = _targets(tmp_path / "targets.txt", [bad], silent, 3)
    started = time.monotonic()
    process = _start(tmp_path, targets, "--upgrade-concurrency=4", "-x")
    try:
        code = process.wait(timeout=PROBE_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    elapsed = time.monotonic() - started
    log = (tmp_path / "log.txt").read_text(errors="replace")
    assert code == pytest.ExitCode.TESTS_FAILED, log
    # pytest's own start and the first deployment's probes, not the silent host's timeout.
    assert elapsed < EXIT_BOUND + 5, log
    document = json.loads((tmp_path / "out" / "report.json").read_text())
    assert document["interrupted"] is True
    assert document["requirements"]["reported"] == 1
    assert "interrupted: 1 of 4 selected requirement(s) reported" in log
