"""pytest-upgrade benchmarks: one command, one table of medians and ratios.

    python benchmarks/bench.py            full run (under five minutes on 2 cores)
    python benchmarks/bench.py --quick    few iterations, for CI (no assertion on times)

Measured in one run, on loopback (127.0.0.1) only:

1. Session start: from requesting the bundled server to it answering on both
   listeners (BundledCA, UpgradeServer.start(), a first answer on the TLS and
   on the cleartext listener); in-process, and in a fresh pytest session.
2. One complete check per requirement (h2, h2c, websocket, TLS/1.2, HTTP/1.1,
   and h3 when aioquic is installed) against the bundled server running the
   demo app, as plugin.py makes it
   (observe() on a thread pool, then run_checks()), versus the floor: the same
   exchanges made with bare sockets, ssl, h11 and h2 (bare aioquic for HTTP/3),
   contexts built once,
   run concurrently on a thread pool of the same size (benchmarks/_floor.py).
3. A generated suite of 300 ``requires_upgrade("h2")`` tests run by pytest,
   versus the same assertions written by hand with httpx and a hand-written
   hypercorn fixture (benchmarks/_suites.py).
4. The facts of one h2 requirement gathered by hand with the runbook commands
   (curl --http1.1, curl --http2, openssl s_client -tls1 / -tls1_1), versus the
   plugin's one check.
5. Latency: declared ``h2`` requirements against nginx behind a proxy adding
   25 ms each way (benchmarks/delay_proxy.py): (a) 1,000 against one host,
   (b) 100 hosts x 10; serial, probed ahead, and ``-n 4``, with the ratio to
   the latency floor (3 round trips x requirements / requirements in flight).
6. Memory: the peak RSS of 2,000 declared ``h2`` requirements against the
   bundled server over that of 10, and (tracemalloc, after a full garbage
   collection) the memory each finished requirement leaves behind.

The exit status is 0 whatever the times are; it is 1 only when something the
benchmark relies on went wrong (a check or a suite failed, a server did not
start), so that CI notices a harness that rotted. ``--profile`` adds a cProfile
summary of each requirement's check (its probes run serially in the profiled
thread, since cProfile sees only one thread).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import dataclasses
import datetime as dt
import io
import json
import os
import pathlib
import platform
import pstats
import re
import shlex
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import _floor
import _latency
import _suites

from pytest_upgrade._model import Finding, Observation, Outcome, Requirement
from pytest_upgrade.checks.catalogue import run_checks
from pytest_upgrade.glue.ahead import ESTIMATED_CONNECTIONS as _ESTIMATED_CONNECTIONS
from pytest_upgrade.glue.fixtures import _attribute_answers, bundled_target
from pytest_upgrade.glue.settings import DEFAULT_CONCURRENCY, DEFAULT_HOST_LIMIT
from pytest_upgrade.judge import target_error
from pytest_upgrade.probes.target import Target
from pytest_upgrade.protocols.planning import assemble, plan_probes
from pytest_upgrade.report.results import reproduce_commands
from pytest_upgrade.server.bundled import BundledCA, UpgradeServer

sys.path.insert(0, str(_suites.DEMO_APP.parent))
from app import app as DEMO_APP  # examples/demo/app.py

TIMEOUT = 5.0  # the plugin's default probe timeout
EXECUTOR_WORKERS = 8  # as probes.engine.ProbeEngine for one requirement at a time

# The demo app's path for each requirement (examples/demo/app.py).
REQUIREMENTS = (
    ("h2", "/v2/orders"),
    ("h2c", "/internal/stock"),
    ("websocket", "/ws"),
    ("TLS/1.2", "/secure/payments"),
    ("HTTP/1.1", "/legacy/catalogue"),
)
try:  # the h3 row needs the extra (pytest-upgrade[h3]); the others do not
    import aioquic  # noqa: F401

    REQUIREMENTS += (("h3", "/legacy/catalogue"),)  # served over HTTP/1.1, HTTP/2 and HTTP/3
except ImportError:
    pass

# Checks that are skipped against the demo app, whatever it does right:
# websocket-version cannot pass against the bundled server (README, "What the
# bundled server answers by itself"); upgrade-unswitchable judges HTTP/1.x
# answers other than 101 and 426, and a compliant app gives none.
_BUNDLED_SKIPS = {
    "websocket-version",
    "upgrade-unswitchable",
    # hypercorn cannot perform the in-band TLS upgrade (RFC 2817) the demo's 426 names.
    "tls-upgrade-performed",
    "tls-upgrade-switch",
}


class HarnessError(Exception):
    """Something the benchmark relies on did not work: the numbers would mean nothing."""


@dataclass(frozen=True)
class Config:
    quick: bool
    start_iterations: int
    start_sessions: int
    check_iterations: int
    suite_tests: int
    suite_runs: int
    runbook_iterations: int
    latency_single: int
    latency_hosts: int
    latency_per_host: int
    latency_serial_sample: int
    latency_runs: int
    memory_requirements: int
    retained_requirements: int
    profile: bool
    env: dict[str, str]  # of the subprocesses

    @classmethod
    def make(cls, quick: bool, profile: bool, env: dict[str, str]) -> Config:
        if quick:  # smaller suites too: CI only needs every path of the harness to run
            return cls(True, 5, 1, 5, 100, 1, 2, 60, 6, 5, 20, 1, 300, 200, profile, env)
        return cls(False, 30, 7, 60, 300, 3, 10, 1000, 100, 10, 200, 3, 2000, 600, profile, env)


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


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def ms(value: float) -> str:
    return f"{value:.1f} ms"


def seconds(value: float) -> str:
    return f"{value:.2f} s"


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _first_answer(port: int, context: ssl.SSLContext | None) -> None:
    with socket.create_connection((_floor.HOST, port), timeout=TIMEOUT) as raw:
        sock = context.wrap_socket(raw, server_hostname=_floor.HOST) if context else raw
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        if not sock.recv(16).startswith(b"HTTP/1.1 "):
            raise HarnessError("the bundled server did not answer HTTP/1.1")


@contextlib.contextmanager
def bundled_server() -> Iterator[UpgradeServer]:
    ca = BundledCA()
    try:
        with UpgradeServer(DEMO_APP, ca=ca) as server:
            yield server
    finally:
        ca.close()


def plugin_target(server: UpgradeServer) -> Target:
    """The Target the upgrade_target fixture builds for the bundled server."""
    return bundled_target(server)


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


# -- 1. session start ---------------------------------------------------------------


def bench_start(config: Config, report: Report, scratch: pathlib.Path) -> None:
    totals, parts, stops = [], [], []
    for _ in range(config.start_iterations):
        t0 = time.perf_counter()
        ca = BundledCA()
        t1 = time.perf_counter()
        server = UpgradeServer(DEMO_APP, ca=ca)
        try:
            server.start()
            t2 = time.perf_counter()
            _first_answer(_port(server.https_url), server.ssl_context())
            t3 = time.perf_counter()
            _first_answer(_port(server.http_url), None)
            t4 = time.perf_counter()
        finally:
            s0 = time.perf_counter()
            server.stop()
            ca.close()
            stops.append(time.perf_counter() - s0)
        totals.append(t4 - t0)
        parts.append((t1 - t0, t2 - t1, t3 - t2, t4 - t3))
    total = median_ms(totals)
    report.add(
        Row(
            "1",
            f"session start, in-process (median of {len(totals)})",
            ms(total),
            target="<= 50 ms",
            met=total <= 50,
        )
    )
    ca_ms, start_ms, tls_ms, tcp_ms = (median_ms([p[i] for p in parts]) for i in range(4))
    report.note(
        f"1: in-process medians: BundledCA {ca_ms:.1f} ms, UpgradeServer.start {start_ms:.1f} ms,"
        f" first TLS answer {tls_ms:.1f} ms, first cleartext answer {tcp_ms:.1f} ms;"
        f" first iteration {totals[0] * 1000:.1f} ms; stop() {median_ms(stops):.1f} ms"
        " (not counted)."
    )

    # The same, in a fresh pytest session: the fixture is requested by a test.
    directory = _suites.write_start_suite(scratch / "start")
    out = scratch / "start.jsonl"
    env = {**config.env, "BENCH_START_OUT": str(out)}
    for _ in range(config.start_sessions):
        _pytest(directory, ["-q", "-p", "no:cacheprovider"], env=env, expect_passed=1)
    samples = [json.loads(line) for line in out.read_text().splitlines()]
    cold = median_ms([s["answered"] for s in samples])
    report.add(
        Row(
            "1",
            f"session start, fresh pytest session (median of {len(samples)})",
            ms(cold),
            target="<= 50 ms",
            met=cold <= 50,
        )
    )
    report.note(
        "1: fresh session: getfixturevalue('upgrade_server') returned after"
        f" {median_ms([s['started'] for s in samples]):.1f} ms (median); the rest is the"
        " first answer on each listener."
    )


# -- 2. one check per requirement versus the floor ------------------------------------


def observe(
    requirement: Requirement,
    target: Target,
    *,
    timeout: float,
    executor: ThreadPoolExecutor | None = None,
) -> Observation:
    """The requirement's plan run on ``executor`` (serially without one), assembled."""
    observed_at = dt.datetime.now(dt.UTC)
    probes = plan_probes(requirement, target, timeout=timeout).probes
    if executor is None:
        made = [probe() for probe in probes]
    else:
        made = [future.result() for future in [executor.submit(probe) for probe in probes]]
    return assemble(requirement, target, made, observed_at=observed_at)


def plugin_check(
    requirement: Requirement,
    target: Target,
    executor: ThreadPoolExecutor | None,
    server: UpgradeServer,
) -> list[Finding]:
    """What glue.fixtures._upgrade_probe does for one requirement, without pytest."""
    server.drain_errors()
    observation = observe(requirement, target, timeout=TIMEOUT, executor=executor)
    observation = dataclasses.replace(observation, as_of=dt.datetime.now(dt.UTC).date())
    observation = _attribute_answers(observation, server)
    server.drain_errors()
    findings = run_checks(observation, None)
    error = target_error(observation)
    if error is not None:
        raise HarnessError(f"{requirement.describe()}: {error}")
    return findings


def _verify(requirement: Requirement, findings: list[Finding]) -> None:
    bad = [
        f"{f.check_id}: {f.outcome.value}: {f.message}"
        for f in findings
        if f.outcome in (Outcome.FAILED, Outcome.WARNED)
        # A check whose rule does not apply (no redirect to judge, no 426) is no
        # harness failure; one that could not run is.
        or (f.outcome is Outcome.SKIPPED and f.applies and f.check_id not in _BUNDLED_SKIPS)
    ]
    if bad:
        raise HarnessError(f"{requirement.describe()}: " + "; ".join(bad))


def _run_floor(planned: list[_floor.Planned], executor: ThreadPoolExecutor | None) -> None:
    if executor is None:
        results = [p.run() for p in planned]
    else:
        futures = [executor.submit(p.run) for p in planned]
        results = [f.result() for f in futures]
    for p, result in zip(planned, results, strict=True):
        if result != p.expect:
            raise HarnessError(f"floor {p.what}: got {result!r}, expected {p.expect!r}")


def bench_checks(config: Config, report: Report) -> None:
    with (
        bundled_server() as server,
        ThreadPoolExecutor(EXECUTOR_WORKERS, thread_name_prefix="plugin") as plugin_pool,
        ThreadPoolExecutor(EXECUTOR_WORKERS, thread_name_prefix="floor") as floor_pool,
    ):
        target = plugin_target(server)
        contexts = _floor.Contexts.build(str(server.ca.ca_pem))
        https, http = _port(server.https_url), _port(server.http_url)
        report.note(
            "2: plugin = observe() on a thread pool of 8, _attribute_answers() and run_checks(),"
            " as glue.fixtures._upgrade_probe does; floor = the same exchanges (each on a fresh"
            " connection, as the plugin's probes) with blocking sockets, ssl.SSLSocket, h11 and"
            " h2, SSLContexts built once, no records or checks, run concurrently on a thread pool"
            " of 8 (the ratio's baseline) and one after another (shown for reference). Both talk"
            " to the same in-process bundled server (demo app), interleaved, after 3 warm-ups;"
            " the WebSocket exchanges include the closing handshake, as the plugin's probe"
            " closes its connection."
        )
        for protocol, path in REQUIREMENTS:
            requirement = Requirement(protocol, path)
            planned = _floor.plan(protocol, path, https, http, contexts)
            _verify(requirement, plugin_check(requirement, target, plugin_pool, server))
            for _ in range(3):  # warm-up: connections, caches, code paths
                plugin_check(requirement, target, plugin_pool, server)
                _run_floor(planned, floor_pool)
            plugin, floor, serial = [], [], []
            for _ in range(config.check_iterations):  # interleaved, so drift hits both
                t0 = time.perf_counter()
                plugin_check(requirement, target, plugin_pool, server)
                t1 = time.perf_counter()
                _run_floor(planned, floor_pool)
                t2 = time.perf_counter()
                _run_floor(planned, None)
                t3 = time.perf_counter()
                plugin.append(t1 - t0)
                floor.append(t2 - t1)
                serial.append(t3 - t2)
            p, f = median_ms(plugin), median_ms(floor)
            report.floors[protocol] = f
            report.add(
                Row(
                    "2",
                    f"{protocol} check ({len(planned)} exchanges) vs concurrent floor",
                    ms(p),
                    ms(f),
                    f"{p / f:.2f}x",
                    "<= 1.3x",
                    p / f <= 1.3,
                )
            )
            report.note(
                f"2: {protocol} floor = {'; '.join(x.what for x in planned)}; concurrent on"
                f" {EXECUTOR_WORKERS} threads {f:.1f} ms, one after another"
                f" {median_ms(serial):.1f} ms (plugin/serial floor {p / median_ms(serial):.2f}x)."
            )
            if config.profile:
                _profile_check(requirement, target, server, report)


def _profile_check(
    requirement: Requirement, target: Target, server: UpgradeServer, report: Report
) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(10):
        plugin_check(requirement, target, None, server)  # serial: cProfile sees one thread
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(12)
    lines = [
        line
        for line in text.getvalue().splitlines()
        if line.strip() and not line.strip().startswith("List reduced")
    ]
    report.note(f"2: profile of 10 serial {requirement.protocol} checks (tottime):")
    report.notes.extend("     " + line for line in lines[-14:])


# -- 3. a generated suite versus a hand-written one -----------------------------------


_SUMMARY = re.compile(r"(\d+) (passed|failed|error|errors|skipped|deselected)")


def _pytest(
    directory: pathlib.Path,
    args: list[str],
    *,
    env: dict[str, str],
    expect_passed: int | None = None,
    expect_code: int = 0,
) -> float:
    """Run pytest in ``directory``; its wall time. HarnessError unless it went as expected."""
    command = [sys.executable, "-m", "pytest", *args]
    start = time.perf_counter()
    done = subprocess.run(
        command,
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    elapsed = time.perf_counter() - start
    counts = {kind: int(n) for n, kind in _SUMMARY.findall(done.stdout.splitlines()[-1])}
    if done.returncode != expect_code or (
        expect_passed is not None and counts.get("passed") != expect_passed
    ):
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
        raise HarnessError(
            f"pytest {shlex.join(args)} in {directory.name} exited {done.returncode}"
            f" (expected {expect_code}, {expect_passed} passed):\n{tail}"
        )
    return elapsed


def bench_suites(config: Config, report: Report, scratch: pathlib.Path) -> None:
    n = config.suite_tests
    plugin_dir = _suites.write_plugin_suite(scratch / "plugin_suite", n)
    hand_dir = _suites.write_hand_suite(scratch / "hand_suite", n)
    plugin_args = ["-q", "-p", "no:cacheprovider"]
    # Without the plugin: the hand-written suite is what a project not using it runs.
    hand_args = ["-q", "-p", "no:cacheprovider", "-p", "no:upgrade"]
    one = ["-k", "test_h2_0"]  # one test: start-up, collection, the server, one test
    # Warm-up (bytecode and rewritten test modules cached, OS caches), and the one-test runs.
    plugin_one = _pytest(plugin_dir, [*plugin_args, *one], expect_passed=1, env=config.env)
    hand_one = _pytest(hand_dir, [*hand_args, *one], expect_passed=1, env=config.env)
    plugin, hand = [], []
    for _ in range(config.suite_runs):
        plugin.append(_pytest(plugin_dir, plugin_args, expect_passed=n, env=config.env))
        hand.append(_pytest(hand_dir, hand_args, expect_passed=n, env=config.env))
    if not config.quick:
        plugin_one = min(
            plugin_one, _pytest(plugin_dir, [*plugin_args, *one], expect_passed=1, env=config.env)
        )
        hand_one = min(
            hand_one, _pytest(hand_dir, [*hand_args, *one], expect_passed=1, env=config.env)
        )
    p, h = statistics.median(plugin), statistics.median(hand)
    report.add(
        Row(
            "3",
            f"{n} marked h2 tests vs hand-written httpx suite (median of {len(plugin)})",
            seconds(p),
            seconds(h),
            f"{p / h:.2f}x",
            "<= 1.0x",
            p / h <= 1.0,
        )
    )
    per_plugin = 1000 * (p - plugin_one) / (n - 1)
    per_hand = 1000 * (h - hand_one) / (n - 1)
    report.note(
        f"3: a one-test run takes {plugin_one:.2f} s with the plugin and {hand_one:.2f} s"
        f" hand-written (interpreter, imports, collection, server start); each further test"
        f" costs {per_plugin:.1f} ms with the plugin and {per_hand:.1f} ms hand-written."
        " The hand-written suite reuses one HTTP/1.1 and one HTTP/2 keep-alive connection"
        " for every test and makes two refused TLS handshakes per test; the plugin opens four"
        " fresh connections per test (two full TLS handshakes with an exchange, two refused)."
    )
    floor = report.floors.get("h2")
    if floor is not None:
        report.note(
            f"3: {n} x the concurrent h2 floor of section 2 ({floor:.1f} ms) is"
            f" {n * floor / 1000:.2f} s: with fresh connections for every test the plugin's"
            f" suite cannot get below that, against {h:.2f} s for the whole hand-written run."
        )


# -- 4. the runbook commands versus the plugin ------------------------------------------


def bench_runbook(config: Config, report: Report) -> None:
    missing = [tool for tool in ("curl", "openssl") if shutil.which(tool) is None]
    if missing:
        for tool in missing:
            report.add(Row("4", "h2 facts by hand (runbook)", f"skipped: {tool} not installed"))
        return
    with (
        bundled_server() as server,
        ThreadPoolExecutor(EXECUTOR_WORKERS, thread_name_prefix="plugin") as pool,
    ):
        target = plugin_target(server)
        requirement = Requirement("h2", "/v2/orders")
        observation = observe(requirement, target, timeout=TIMEOUT, executor=pool)
        commands = reproduce_commands(observation, cafile=target.cafile)
        argvs = [shlex.split(c.removesuffix(" </dev/null")) for c in commands]
        kinds = [" ".join(a[:3]) if a[0] == "curl" else f"openssl s_client {a[6]}" for a in argvs]
        env = config.env

        def by_hand() -> None:
            outputs = []
            for argv in argvs:
                done = subprocess.run(
                    argv,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                    timeout=30,
                    env=env,
                    check=False,
                )
                outputs.append(done.stdout + done.stderr)
            # The facts: 426 over HTTP/1.1, 200 over HTTP/2, both old TLS versions refused.
            if "< HTTP/1.1 426" not in outputs[0] or "< HTTP/2 200" not in outputs[1]:
                raise HarnessError("the curl commands did not see 426 / HTTP/2 200")
            if any("Cipher is (NONE)" not in o and "alert" not in o for o in outputs[2:]):
                raise HarnessError("openssl s_client did not see TLS 1.0/1.1 refused")

        by_hand()
        plugin_check(requirement, target, pool, server)
        plugin, hand = [], []
        for _ in range(config.runbook_iterations):
            t0 = time.perf_counter()
            plugin_check(requirement, target, pool, server)
            t1 = time.perf_counter()
            by_hand()
            t2 = time.perf_counter()
            plugin.append(t1 - t0)
            hand.append(t2 - t1)
    p, h = median_ms(plugin), median_ms(hand)
    report.add(
        Row(
            "4",
            f"h2 check vs {len(argvs)} runbook commands, serial (median of {len(hand)})",
            ms(p),
            ms(h),
            f"{h / p:.1f}x faster",
            ">= 3x faster",
            h / p >= 3,
        )
    )
    report.note(
        "4: runbook = the plugin's own reproduce commands, one after another: "
        + "; ".join(kinds)
        + ". Only the commands' run time is counted, not the reading of their output."
    )


# -- 5. latency: declared requirements behind a delaying proxy -----------------------

ONE_WAY_DELAY = 0.025  # seconds each way: a 50 ms round trip
ROUND_TRIPS = 3  # of one probe's critical path: TCP connect, TLS 1.3, the request
LATENCY_TARGET_S = 10.0
FLOOR_RATIO_TARGET = 2.0


def _floor_s(items: int, in_flight: int) -> float:
    """The latency floor: 3 round trips per requirement, ``in_flight`` at a time."""
    return ROUND_TRIPS * 2 * ONE_WAY_DELAY * items / in_flight


def _latency_rows(
    config: Config,
    report: Report,
    label: str,
    directory: pathlib.Path,
    base: list[str],
    items: int,
    in_flight: int,
    concurrent_args: list[str],
    per_path: int = 1,
) -> None:
    """Serial (a sample, scaled), with the plugin's concurrency, and with -n 4.

    ``per_path``: items per requirement path (the hosts of a fleet).
    """
    env = config.env
    paths = max(1, min(items, config.latency_serial_sample) // per_path)
    sample = paths * per_path
    serial_args = [*base, "--upgrade-concurrency=1"]
    if sample < items:
        # Serial cost is linear in the requirements: a sample is measured and scaled.
        selected = ["-k", " or ".join(f"/{i}]" for i in range(paths))]
        serial = _pytest(directory, [*serial_args, *selected], expect_passed=sample, env=env)
        serial *= items / sample
        serial_name = f"serial (measured {sample}, x{items / sample:.3g})"
    else:
        serial = _pytest(directory, serial_args, expect_passed=items, env=env)
        serial_name = "serial"
    concurrent = statistics.median(
        _pytest(directory, [*base, *concurrent_args], expect_passed=items, env=env)
        for _ in range(config.latency_runs)
    )
    xdist = _pytest(directory, [*serial_args, "-n", "4"], expect_passed=items, env=env)
    floor = _floor_s(items, in_flight)
    report.add(Row("5", f"{label}: {serial_name}", seconds(serial), "-", "-", "-"))
    report.add(Row("5", f"{label}: -n 4, each worker serial", seconds(xdist), "-", "-", "-"))
    report.add(
        Row(
            "5",
            f"{label}: probe ahead {' '.join(concurrent_args) or '(defaults)'}"
            f" (median of {config.latency_runs})",
            seconds(concurrent),
            f"floor {seconds(floor)}",
            f"{concurrent / floor:.2f}x floor",
            f"<= {LATENCY_TARGET_S:g} s, <= {FLOOR_RATIO_TARGET:g}x",
            concurrent <= LATENCY_TARGET_S and concurrent / floor <= FLOOR_RATIO_TARGET,
        )
    )
    report.note(
        f"5: {label}: {serial / concurrent:.1f}x faster than serial and"
        f" {xdist / concurrent:.1f}x faster than -n 4; the floor is {ROUND_TRIPS} round trips"
        f" x {items} requirements / {in_flight} in flight = {floor:.2f} s; times are whole"
        " pytest runs (interpreter start-up and collection included)."
    )


def bench_latency(config: Config, report: Report, scratch: pathlib.Path) -> None:
    origin = _latency.start_origin(scratch / "origin")
    hosts = config.latency_hosts
    try:
        ports, proxy = _latency.start_proxy(origin.port, ONE_WAY_DELAY, 1 + hosts, lifetime=1800)
    except BaseException:
        origin.stop()
        raise
    try:
        one, fleet = ports[0], ports[1:]
        env = config.env
        n = config.latency_single
        single = _latency.write_single_target_suite(scratch / "latency_single", n)
        # Without this project's own hypothesis plugin, which imports
        # hypothesis at every session's end (about 1 s); users run without it.
        base = [
            "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
            f"--upgrade-target=https://127.0.0.1:{one}", f"--upgrade-ca={origin.cafile}",
        ]  # fmt: skip
        _pytest(single, [*base, "-k", "/0]"], expect_passed=1, env=env)  # warm-up
        # One deployment: its owner raises the per-host limit (default 8
        # connections: 4 requirements at once) to the overall concurrency.
        host_limit = 2 * DEFAULT_CONCURRENCY
        _latency_rows(
            config, report, f"(a) {n} h2 requirements, 1 host", single, base, n,
            min(n, DEFAULT_CONCURRENCY), [f"--upgrade-host-limit={host_limit}"],
        )  # fmt: skip
        default_run = _pytest(single, base, expect_passed=n, env=env)
        in_flight = DEFAULT_HOST_LIMIT // _ESTIMATED_CONNECTIONS
        report.note(
            f"5: (a) with the default --upgrade-host-limit={DEFAULT_HOST_LIMIT}"
            f" ({in_flight} requirements at once against the one host): {default_run:.2f} s"
            f" (floor {_floor_s(n, in_flight):.2f} s)."
        )
        per_host = config.latency_per_host
        fleet_dir = _latency.write_fleet_suite(
            scratch / "latency_fleet", fleet, per_host, origin.cafile
        )
        fleet_base = [
            "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
            "--upgrade-targets-file=targets.txt",
        ]  # fmt: skip
        fleet_items = hosts * per_host
        _latency_rows(
            config, report, f"(b) {hosts} hosts x {per_host} h2 requirements", fleet_dir,
            fleet_base, fleet_items, min(fleet_items, DEFAULT_CONCURRENCY, hosts * in_flight),
            [], per_path=hosts,
        )  # fmt: skip
    finally:
        proxy.stop()
        origin.stop()
    report.note(
        f"5: the server is {origin.name} on 127.0.0.1 behind benchmarks/delay_proxy.py"
        f" ({ONE_WAY_DELAY * 1000:g} ms each way, connect costs a round trip; one port per"
        " simulated host, every port forwarding to the same server); the proxy and the"
        " server share the machine's cores with pytest."
    )


# -- 6. memory bounded by the work kept ------------------------------------------------

MEMORY_BASE = 10  # requirements of the small run the peak RSS is compared with
PEAK_GROWTH_TARGET_MIB = 60
RETAINED_TARGET_KIB = 20


def _memory_run(config: Config, directory: pathlib.Path, count: int) -> dict[str, int]:
    _pytest(directory, ["-q", "-p", "no:cacheprovider"], expect_passed=count, env=config.env)
    numbers: dict[str, int] = json.loads((directory / "memory.json").read_text())
    if numbers["items"] != count:
        raise HarnessError(f"the memory run finished {numbers['items']} of {count} items")
    return numbers


def bench_memory(config: Config, report: Report, scratch: pathlib.Path) -> None:
    n = config.memory_requirements
    small = _memory_run(
        config, _suites.write_memory_suite(scratch / "memory_small", MEMORY_BASE), MEMORY_BASE
    )
    large = _memory_run(config, _suites.write_memory_suite(scratch / "memory_large", n), n)
    growth_mib = (large["peak_rss_kib"] - small["peak_rss_kib"]) / 1024
    report.add(
        Row(
            "6",
            f"peak RSS, {n} declared h2 requirements over {MEMORY_BASE}",
            f"{large['peak_rss_kib'] / 1024:.0f} MiB",
            f"{small['peak_rss_kib'] / 1024:.0f} MiB",
            f"{growth_mib:+.0f} MiB",
            f"<= +{PEAK_GROWTH_TARGET_MIB} MiB",
            growth_mib <= PEAK_GROWTH_TARGET_MIB,
        )
    )
    m = config.retained_requirements
    warmup = m // 6
    traced = _memory_run(
        config,
        _suites.write_memory_suite(scratch / "memory_traced", m, trace=True, warmup=warmup),
        m,
    )
    per_kib = (traced["last_bytes"] - traced["warm_bytes"]) / (m - warmup) / 1024
    report.add(
        Row(
            "6",
            f"memory retained per finished requirement (items {warmup}..{m}, tracemalloc)",
            f"{per_kib:.1f} KiB",
            target=f"<= {RETAINED_TARGET_KIB} KiB",
            met=per_kib <= RETAINED_TARGET_KIB,
        )
    )
    report.note(
        "6: peak RSS is the pytest process's VmHWM (bundled server, probes and pytest in one"
        " process); retained memory is Python allocations still live after gc.collect(),"
        " counted by tracemalloc once the warm-up items are done and after the last one:"
        " each requirement's result (kept for the summary and the JSON report), its item"
        " and pytest's own report of it."
    )


# -- the table ----------------------------------------------------------------------------


def render(report: Report, config: Config, wall: float) -> str:
    header = ("#", "measurement", "plugin", "baseline", "ratio", "target", "result")
    rows = [
        (r.number, r.name, r.value, r.baseline, r.ratio, r.target, r.result) for r in report.rows
    ]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    right = {2, 3, 4}

    def line(row: tuple[str, ...]) -> str:
        cells = [
            str(cell).rjust(widths[i]) if i in right else str(cell).ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        return "  ".join(cells).rstrip()

    rule = "-" * len(line(header))
    out = [
        f"pytest-upgrade benchmarks ({'quick' if config.quick else 'full'} mode):"
        f" Python {platform.python_version()}, {ssl.OPENSSL_VERSION},"
        f" {os.cpu_count()} CPUs, loopback 127.0.0.1",
        f"load average (1 min) at start {report.load[0]:.2f}, at end {os.getloadavg()[0]:.2f}"
        " (other processes on the machine compete for the same cores)",
        rule,
        line(header),
        rule,
        *(line(row) for row in rows),
        rule,
    ]
    targets = [r for r in report.rows if r.met is not None]
    met = sum(1 for r in targets if r.met)
    out.append(
        f"targets: {met} of {len(targets)} met; harness wall time {wall:.1f} s"
        f" (sections {', '.join(report.timings)})"
    )
    if config.quick:
        out.append("(quick mode: few iterations; the times are not meaningful as measurements)")
    out += ["", "notes:", *("  " + n for n in report.notes)]
    return "\n".join(out)


SECTIONS: dict[str, Callable[[Config, Report, pathlib.Path], None]] = {
    "1": bench_start,
    "2": lambda config, report, scratch: bench_checks(config, report),
    "3": bench_suites,
    "4": lambda config, report, scratch: bench_runbook(config, report),
    "5": bench_latency,
    "6": bench_memory,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few iterations (CI)")
    parser.add_argument("--profile", action="store_true", help="cProfile each check (section 2)")
    parser.add_argument(
        "--only", default="123456", help="sections to run, e.g. --only 25 (default: all)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated suites")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="pytest-upgrade-bench-"))
    config = Config.make(args.quick, args.profile, subprocess_env(scratch / "pycache"))
    report = Report()
    code = 0
    try:
        for number, section in SECTIONS.items():
            if number not in args.only:
                continue
            print(f"section {number} ...", flush=True)
            began = time.perf_counter()
            try:
                section(config, report, scratch)
            except HarnessError as exc:
                print(f"bench: section {number}: harness failure: {exc}", file=sys.stderr)
                report.add(Row(number, f"section {number}", "FAILED (see stderr)", met=False))
                code = 1
            report.timings.append(f"{number}: {time.perf_counter() - began:.0f} s")
    finally:
        if args.keep:
            print(f"generated files kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print()
    print(render(report, config, time.perf_counter() - start))
    return code


if __name__ == "__main__":
    sys.exit(main())
