"""Section 5, latency: declared ``h2`` requirements behind a proxy adding 25 ms each way.

(a) requirements against one host, (b) simulated hosts (one proxy port
each) with requirements each; each serial (a sample, scaled), probed ahead,
and with ``-n 4``, with the ratio to the latency floor (3 round trips x
requirements / requirements in flight). (c) requirements against one host at
the default host limit, kept-alive connections against fresh ones. The server
and the proxy: ``_origin``.
"""

from __future__ import annotations

import pathlib
import statistics

import _origin
from _harness import Bench, Row, declared, run_pytest, seconds, write_suite

from pytest_upgrade.glue.ahead import ESTIMATED_CONNECTIONS
from pytest_upgrade.glue.settings import DEFAULT_CONCURRENCY
from pytest_upgrade.probes.engine import DEFAULT_HOST_LIMIT

ONE_WAY_DELAY = 0.025  # seconds each way: a 50 ms round trip
ROUND_TRIPS = 3  # of one probe's critical path: TCP connect, TLS 1.3, the request
LATENCY_TARGET_S = 10.0
# (c): 500 requirements against one host at the default host limit in 6 s at most.
POLITE_TARGET_S, POLITE_REQUIREMENTS = 6.0, 500
FLOOR_RATIO_TARGET = 2.0
# Without this project's own hypothesis plugin, which imports hypothesis at
# every session's end (about 1 s); users run without it.
QUIET = ["-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest"]


def _requirements(count: int) -> list[str]:
    return [f"h2 /v2/orders/{i}" for i in range(count)]


def _floor_s(items: int, in_flight: int) -> float:
    """The latency floor: 3 round trips per requirement, ``in_flight`` at a time."""
    return ROUND_TRIPS * 2 * ONE_WAY_DELAY * items / in_flight


def run(bench: Bench) -> None:
    origin = _origin.start_origin(bench.scratch / "origin")
    hosts = bench.settings.latency_hosts
    try:
        ports, proxy = _origin.start_proxy(origin.port, ONE_WAY_DELAY, 1 + hosts, lifetime=1800)
    except BaseException:
        origin.stop()
        raise
    try:
        _single_host(bench, ports[0], origin.cafile)
        _polite(bench, ports[0], origin.cafile)
        _fleet(bench, ports[1:], origin.cafile)
    finally:
        proxy.stop()
        origin.stop()
    bench.report.note(
        f"5: the server is {origin.name} on 127.0.0.1 behind benchmarks/delay_proxy.py"
        f" ({ONE_WAY_DELAY * 1000:g} ms each way, connect costs a round trip; one port per"
        " simulated host, every port forwarding to the same server); the proxy and the"
        " server share the machine's cores with pytest."
    )


def _one_host(
    bench: Bench, name: str, n: int, port: int, cafile: str
) -> tuple[pathlib.Path, list[str]]:
    """A suite of ``n`` declared requirements against the one host, and its arguments."""
    files = {"pytest.ini": declared(_requirements(n))}
    directory = write_suite(bench.scratch / name, files, with_app=False)
    return directory, [
        *QUIET,
        f"--upgrade-target=https://127.0.0.1:{port}",
        f"--upgrade-ca={cafile}",
    ]


def _single_host(bench: Bench, port: int, cafile: str) -> None:
    """(a): ``--upgrade-target`` and declared requirements."""
    n = bench.settings.latency_single
    directory, base = _one_host(bench, "latency_single", n, port, cafile)
    run_pytest(directory, [*base, "-k", "/0]"], expect_passed=1, env=bench.env)  # warm-up
    # One deployment: its owner raises the per-host limit (default 8
    # connections: 4 requirements at once) to the overall concurrency.
    host_limit = 2 * DEFAULT_CONCURRENCY
    in_flight = min(n, DEFAULT_CONCURRENCY)
    label = f"(a) {n} h2 requirements, 1 host"
    _rows(bench, label, directory, base, n, in_flight, [f"--upgrade-host-limit={host_limit}"])


def _polite(bench: Bench, port: int, cafile: str) -> None:
    """(c): one host at the default host limit, kept-alive connections against a new
    connection for every probe (``--upgrade-fresh-connections``, as before)."""
    n = bench.settings.latency_polite
    directory, base = _one_host(bench, "latency_polite", n, port, cafile)
    kept = run_pytest(directory, base, expect_passed=n, env=bench.env)
    fresh = run_pytest(
        directory, [*base, "--upgrade-fresh-connections"], expect_passed=n, env=bench.env
    )
    target = POLITE_TARGET_S * n / POLITE_REQUIREMENTS
    bench.report.add(
        Row(
            "5",
            f"(c) {n} h2 requirements, 1 host, --upgrade-host-limit={DEFAULT_HOST_LIMIT}"
            " (default): kept-alive connections",
            seconds(kept),
            f"fresh connections {seconds(fresh)}",
            f"{fresh / kept:.2f}x faster",
            f"<= {target:.3g} s",
            kept <= target,
        )
    )
    in_flight = DEFAULT_HOST_LIMIT // ESTIMATED_CONNECTIONS
    bench.report.note(
        f"5: (c) the target is {POLITE_TARGET_S:g} s for {POLITE_REQUIREMENTS} requirements"
        f" (scaled to {n}); with fresh connections {in_flight} requirements run at once against"
        f" the one host (floor {_floor_s(n, in_flight):.2f} s)."
    )


def _fleet(bench: Bench, ports: list[int], cafile: str) -> None:
    """(b): a targets file naming one deployment per proxy port, the defaults."""
    hosts, per_host = len(ports), bench.settings.latency_per_host
    targets = "".join(
        f"https://127.0.0.1:{port} ca={cafile} name=host{n}\n" for n, port in enumerate(ports)
    )
    files = {"targets.txt": targets, "pytest.ini": declared(_requirements(per_host))}
    directory = write_suite(bench.scratch / "latency_fleet", files, with_app=False)
    items = hosts * per_host
    per_host_in_flight = DEFAULT_HOST_LIMIT // ESTIMATED_CONNECTIONS
    in_flight = min(items, DEFAULT_CONCURRENCY, hosts * per_host_in_flight)
    label = f"(b) {hosts} hosts x {per_host} h2 requirements"
    base = [*QUIET, "--upgrade-targets-file=targets.txt"]
    _rows(bench, label, directory, base, items, in_flight, [], per_path=hosts)


def _rows(
    bench: Bench,
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
    env, runs = bench.env, bench.settings.latency_runs
    paths = max(1, min(items, bench.settings.latency_serial_sample) // per_path)
    sample = paths * per_path
    serial_args = [*base, "--upgrade-concurrency=1"]
    if sample < items:
        # Serial cost is linear in the requirements: a sample is measured and scaled.
        selected = ["-k", " or ".join(f"/{i}]" for i in range(paths))]
        serial = run_pytest(directory, [*serial_args, *selected], expect_passed=sample, env=env)
        serial *= items / sample
        serial_name = f"serial (measured {sample}, x{items / sample:.3g})"
    else:
        serial = run_pytest(directory, serial_args, expect_passed=items, env=env)
        serial_name = "serial"
    concurrent = statistics.median(
        run_pytest(directory, [*base, *concurrent_args], expect_passed=items, env=env)
        for _ in range(runs)
    )
    xdist = run_pytest(directory, [*serial_args, "-n", "4"], expect_passed=items, env=env)
    floor = _floor_s(items, in_flight)
    report = bench.report
    report.add(Row("5", f"{label}: {serial_name}", seconds(serial)))
    report.add(Row("5", f"{label}: -n 4, each worker serial", seconds(xdist)))
    report.add(
        Row(
            "5",
            f"{label}: probe ahead {' '.join(concurrent_args) or '(defaults)'} (median of {runs})",
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
