"""What every section of the benchmark shares: its settings, its report, its pytest runs.

A section is a module with one entry point, ``run(bench: Bench) -> None``,
that adds its rows and notes to ``bench.report``; it raises
:class:`HarnessError` when something it relies on went wrong.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import platform
import re
import shlex
import shutil
import ssl
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from pytest_upgrade import BundledCA, UpgradeServer

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEMO_APP = ROOT / "examples" / "demo" / "app.py"
TIMEOUT = 5.0  # the plugin's default probe timeout


class HarnessError(Exception):
    """Something the benchmark relies on did not work: the numbers would mean nothing."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    """How much each section does: iterations, sizes of the generated suites."""

    name: str
    caveat: str = ""  # printed under the table
    start_iterations: int  # 1: in-process starts
    start_sessions: int  # 1: fresh pytest sessions
    check_iterations: int  # 2: per requirement
    suite_tests: int  # 3: tests in each generated suite
    suite_runs: int  # 3: runs of each whole suite
    one_test_runs: int  # 3: runs of a one-test selection (the fastest counts)
    runbook_iterations: int  # 4
    latency_single: int  # 5 (a): requirements against one host
    latency_polite: int  # 5 (c): requirements against one host at the default host limit
    latency_hosts: int  # 5 (b): simulated hosts
    latency_per_host: int  # 5 (b): requirements per host
    latency_serial_sample: int  # 5: requirements measured serially (then scaled)
    latency_runs: int  # 5: runs probing ahead (the median counts)
    memory_requirements: int  # 6: the large run, for the peak RSS
    retained_requirements: int  # 6: the traced run
    sslyze_hosts: int  # 7: simulated hosts scanned by SSLyze and by pytest-upgrade
    cpu_requirements: int  # 9: declared requirements whose CPU is measured


# CI only needs every path of the harness to run: few iterations, smaller suites.
QUICK = Settings(
    name="quick",
    caveat="(quick mode: few iterations; the times are not meaningful as measurements)",
    start_iterations=5,
    start_sessions=1,
    check_iterations=5,
    suite_tests=100,
    suite_runs=1,
    one_test_runs=1,
    runbook_iterations=2,
    latency_single=60,
    latency_polite=60,
    latency_hosts=6,
    latency_per_host=5,
    latency_serial_sample=20,
    latency_runs=1,
    memory_requirements=300,
    retained_requirements=200,
    sslyze_hosts=3,
    cpu_requirements=110,
)
FULL = Settings(
    name="full",
    start_iterations=30,
    start_sessions=7,
    check_iterations=60,
    suite_tests=300,
    suite_runs=3,
    one_test_runs=2,
    runbook_iterations=10,
    latency_single=1000,
    latency_polite=500,
    latency_hosts=100,
    latency_per_host=10,
    latency_serial_sample=200,
    latency_runs=3,
    memory_requirements=2000,
    retained_requirements=600,
    sslyze_hosts=20,
    cpu_requirements=1010,
)


@dataclass
class Row:
    number: str
    name: str
    value: str
    baseline: str = "-"
    ratio: str = "-"
    target: str = "-"
    met: bool | None = None  # None: information, no target

    @property
    def result(self) -> str:
        if self.met is None:
            return ""
        return "MET" if self.met else "MISSED"


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load: tuple[float, float, float] = field(default_factory=os.getloadavg)
    floors: dict[str, float] = field(default_factory=dict)  # section 2, ms, by protocol
    timings: list[str] = field(default_factory=list)  # wall time of each section

    def add(self, row: Row) -> None:
        self.rows.append(row)
        print(f"  {row.number:<3} {row.name}: {row.value}  {row.ratio} {row.result}", flush=True)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def render(self, settings: Settings, wall: float) -> str:
        """The table of rows, the targets met, then the notes."""
        header = ("#", "measurement", "plugin", "baseline", "ratio", "target", "result")
        rows = [
            (r.number, r.name, r.value, r.baseline, r.ratio, r.target, r.result) for r in self.rows
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

        def line(row: tuple[str, ...]) -> str:
            cells = [
                c.rjust(widths[i]) if i in {2, 3, 4} else c.ljust(widths[i])
                for i, c in enumerate(row)
            ]
            return "  ".join(cells).rstrip()

        rule = "-" * len(line(header))
        targets = [r for r in self.rows if r.met is not None]
        met = sum(1 for r in targets if r.met)
        out = [
            f"pytest-upgrade benchmarks ({settings.name} mode):"
            f" Python {platform.python_version()}, {ssl.OPENSSL_VERSION},"
            f" {os.cpu_count()} CPUs, loopback 127.0.0.1",
            f"load average (1 min) at start {self.load[0]:.2f}, at end {os.getloadavg()[0]:.2f}"
            " (other processes on the machine compete for the same cores)",
            rule,
            line(header),
            rule,
            *(line(row) for row in rows),
            rule,
            f"targets: {met} of {len(targets)} met; harness wall time {wall:.1f} s"
            f" (sections {', '.join(self.timings)})",
            *([settings.caveat] if settings.caveat else []),
            "",
            "notes:",
            *("  " + n for n in self.notes),
        ]
        return "\n".join(out)


@dataclass(frozen=True)
class Bench:
    """What a section is given: the settings, the report to fill, a scratch directory,
    the environment of its subprocesses, and whether to profile (section 2)."""

    settings: Settings
    report: Report
    scratch: pathlib.Path
    env: dict[str, str]
    profile: bool = False


def subprocess_env(pycache: pathlib.Path) -> dict[str, str]:
    """The environment of the subprocesses: no proxy, no inherited pytest options.

    Bytecode (and pytest's rewritten test modules) go to a private cache, so
    repeated runs do not parse every module again, as in a CI job that keeps
    its .pyc files, while nothing is written next to the sources.
    """
    drop = {
        "PYTEST_ADDOPTS",
        "PYTEST_PLUGINS",
        "PYTEST_XDIST_AUTO_NUM_WORKERS",
        "PYTHONDONTWRITEBYTECODE",
    }
    env = {
        k: v for k, v in os.environ.items() if k not in drop and not k.lower().endswith("_proxy")
    }
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def ms(value: float) -> str:
    return f"{value:.1f} ms"


def seconds(value: float) -> str:
    return f"{value:.2f} s"


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def demo_app() -> object:
    """The demo app (examples/demo/app.py), the ASGI app the bundled server runs here."""
    sys.path.insert(0, str(DEMO_APP.parent))
    try:
        from app import app  # noqa: PLC0415 (examples/demo is not a package)
    finally:
        sys.path.remove(str(DEMO_APP.parent))
    return app


@contextlib.contextmanager
def bundled_server() -> Iterator[UpgradeServer]:
    """The bundled server running the demo app, with its own CA."""
    ca = BundledCA()
    try:
        with UpgradeServer(demo_app(), ca=ca) as server:
            yield server
    finally:
        ca.close()


PYTEST_INI = """\
[pytest]
asyncio_default_fixture_loop_scope = function
"""

# The conftest of a generated suite whose marked tests the bundled server answers.
PLUGIN_CONFTEST = """\
import pytest
from app import app


@pytest.fixture(scope="session")
def upgrade_app():
    return app
"""


def declared(requirements: list[str]) -> str:
    """A pytest.ini declaring ``requirements`` (lines such as ``h2 /v2/orders/1``)."""
    lines = "".join(f"    {line}\n" for line in requirements)
    return f"{PYTEST_INI}upgrade_requirements =\n{lines}"


def write_suite(
    directory: pathlib.Path, files: dict[str, str], *, with_app: bool = True
) -> pathlib.Path:
    """A generated suite: ``files`` by name, and the demo app as ``app.py``."""
    directory.mkdir(parents=True)
    if with_app:
        shutil.copy(DEMO_APP, directory / "app.py")
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


_SUMMARY = re.compile(r"(\d+) (passed|failed|error|errors|skipped|deselected)")


def run_pytest(
    directory: pathlib.Path,
    args: list[str],
    *,
    env: dict[str, str],
    expect_passed: int | None = None,
) -> float:
    """Run pytest in ``directory``; its wall time. HarnessError unless it passed as expected."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    elapsed = time.perf_counter() - start
    counts = {kind: int(n) for n, kind in _SUMMARY.findall((done.stdout.splitlines() or [""])[-1])}
    if done.returncode != 0 or (
        expect_passed is not None and counts.get("passed") != expect_passed
    ):
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
        raise HarnessError(
            f"pytest {shlex.join(args)} in {directory.name} exited {done.returncode}"
            f" (expected 0, {expect_passed} passed):\n{tail}"
        )
    return elapsed
