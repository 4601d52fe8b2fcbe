"""Section 9, CPU per requirement against its floor.

The CPU time (user + system) of a pytest process checking declared ``h2``
requirements against one local nginx (``_origin``; the bundled hypercorn
without nginx), per requirement: the run of ``cpu_requirements`` less the run
of ``CPU_BASE``, over the difference (interpreter start-up and collection's
fixed cost cancel out). Its floor, measured in the same run: the same
exchanges made bare in this process (``_floor``: one HTTP/1.1 request offering
``http/1.1`` and one HTTP/2 request offering ``h2``, each on a fresh TLS
connection, nothing recorded or checked), CPU time per requirement.
"""

from __future__ import annotations

import resource
import time

import _floor
import _origin
from _harness import Bench, Row, declared, run_pytest, write_suite

CPU_BASE = 10  # requirements of the small run subtracted
CPU_RATIO_TARGET = 1.5
QUIET = ["-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _pytest_cpu(bench: Bench, name: str, n: int, port: int, cafile: str, *extra: str) -> float:
    """The CPU seconds of one pytest run of ``n`` declared requirements."""
    requirements = [f"h2 /v2/orders/{i}" for i in range(n)]
    directory = write_suite(
        bench.scratch / name, {"pytest.ini": declared(requirements)}, with_app=False
    )
    args = [*QUIET, f"--upgrade-target=https://127.0.0.1:{port}", f"--upgrade-ca={cafile}", *extra]
    before = _children_cpu()
    run_pytest(directory, args, expect_passed=n, env=bench.env)
    return _children_cpu() - before


def _floor_cpu(n: int, port: int, cafile: str) -> float:
    """CPU seconds per requirement of its two exchanges made bare, ``n`` times."""
    contexts = _floor.Contexts.build(cafile)
    before = time.process_time()
    for i in range(n):
        path = f"/v2/orders/{i}"
        _floor.http1(port, contexts.h1, path)
        _floor.http2(port, contexts.h2, path)
    return (time.process_time() - before) / n


def run(bench: Bench) -> None:
    origin = _origin.start_origin(bench.scratch / "cpu_origin")
    n = bench.settings.cpu_requirements
    try:
        where = (origin.port, origin.cafile)
        _pytest_cpu(bench, "cpu_warm", CPU_BASE, *where)  # warm-up: bytecode cached
        small = _pytest_cpu(bench, "cpu_small", CPU_BASE, *where)
        large = _pytest_cpu(bench, "cpu_large", n, *where)
        fresh = "--upgrade-fresh-connections"
        small_fresh = _pytest_cpu(bench, "cpu_small_fresh", CPU_BASE, *where, fresh)
        large_fresh = _pytest_cpu(bench, "cpu_large_fresh", n, *where, fresh)
        floor = _floor_cpu(n, origin.port, origin.cafile)
    finally:
        origin.stop()
    per_requirement = (large - small) / (n - CPU_BASE)
    per_fresh = (large_fresh - small_fresh) / (n - CPU_BASE)
    ratio = per_requirement / floor
    bench.report.add(
        Row(
            "9",
            f"CPU per declared h2 requirement, {n} against {origin.name} (the pytest process)",
            f"{per_requirement * 1000:.2f} ms",
            f"bare h11 + h2 {floor * 1000:.2f} ms",
            f"{ratio:.2f}x",
            f"<= {CPU_RATIO_TARGET:g}x",
            ratio <= CPU_RATIO_TARGET,
        )
    )
    bench.report.add(
        Row(
            "9",
            "the same with --upgrade-fresh-connections (every probe its own connection)",
            f"{per_fresh * 1000:.2f} ms",
            f"bare h11 + h2 {floor * 1000:.2f} ms",
            f"{per_fresh / floor:.2f}x",
        )
    )
    bench.report.note(
        f"9: the pytest process's CPU (user + system) for {n} requirements less that for"
        f" {CPU_BASE}, over the difference ({large:.2f} s and {small:.2f} s); the floor makes"
        " each requirement's two exchanges (HTTP/1.1 offering http/1.1, HTTP/2 offering h2)"
        " on fresh TLS connections in the benchmark's own process, one after another."
    )
