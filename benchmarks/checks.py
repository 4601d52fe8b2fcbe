"""Section 2, one complete check per requirement versus the floor.

The plugin's check of each requirement (h2, h2c, websocket, TLS/1.2,
HTTP/1.1, and h3 when aioquic is installed) against the bundled server
running the demo app, as the ``upgrade`` fixture runs it (``_plugin``),
versus the floor: the same exchanges made with bare sockets, ssl, h11 and h2
(bare aioquic for HTTP/3), contexts built once, run concurrently on a thread
pool of the same size (``_floor``).
"""

from __future__ import annotations

import importlib.util
import time
from concurrent.futures import ThreadPoolExecutor

import _floor
from _harness import Bench, HarnessError, Row, bundled_server, median_ms, ms, port_of
from _plugin import Plugin, profile

from pytest_upgrade import Outcome, Requirement, RequirementResult

TARGET_RATIO = 1.3
FLOOR_WORKERS = 8  # the threads of the plugin's probe engine, one requirement at a time
WARMUPS = 3  # connections, caches, code paths

# The demo app's path for each requirement (examples/demo/app.py).
REQUIREMENTS = (
    ("h2", "/v2/orders"),
    ("h2c", "/internal/stock"),
    ("websocket", "/ws"),
    ("TLS/1.2", "/secure/payments"),
    ("HTTP/1.1", "/legacy/catalogue"),
)
if importlib.util.find_spec("aioquic") is not None:  # the extra pytest-upgrade[h3]
    REQUIREMENTS += (("h3", "/legacy/catalogue"),)  # served over HTTP/1.1, HTTP/2 and HTTP/3

# Checks that are skipped against the demo app, whatever it does right:
# websocket-version cannot pass against the bundled server (README, "What the
# bundled server answers by itself"); upgrade-unswitchable judges HTTP/1.x
# answers other than 101 and 426, and a compliant app gives none.
BUNDLED_SKIPS = {
    "websocket-version",
    "upgrade-unswitchable",
    # hypercorn cannot perform the in-band TLS upgrade (RFC 2817) the demo's 426 names.
    "tls-upgrade-performed",
    "tls-upgrade-switch",
}


def verify(result: RequirementResult) -> None:
    """HarnessError unless every check that applies passed against the correct demo app."""
    bad = [
        f"{f.check_id}: {f.outcome.value}: {f.message}"
        for f in result.findings
        if f.outcome in (Outcome.FAILED, Outcome.WARNED)
        # A check whose rule does not apply (no redirect to judge, no 426) is no
        # harness failure; one that could not run is.
        or (f.outcome is Outcome.SKIPPED and f.applies and f.check_id not in BUNDLED_SKIPS)
    ]
    if bad:
        raise HarnessError(f"{result.requirement.describe()}: " + "; ".join(bad))


def _run_floor(planned: list[_floor.Planned], executor: ThreadPoolExecutor | None) -> None:
    if executor is None:
        results = [p.run() for p in planned]
    else:
        futures = [executor.submit(p.run) for p in planned]
        results = [f.result() for f in futures]
    for p, result in zip(planned, results, strict=True):
        if result != p.expect:
            raise HarnessError(f"floor {p.what}: got {result!r}, expected {p.expect!r}")


def run(bench: Bench) -> None:
    report = bench.report
    report.note(
        "2: plugin = the upgrade fixture's evaluation: the probe engine's observation (its"
        f" {FLOOR_WORKERS} threads), the bundled server's account of who answered, then"
        " pytest_upgrade.evaluate; floor = the same exchanges (each on a fresh connection,"
        " as the plugin's probes) with blocking sockets, ssl.SSLSocket, h11 and h2,"
        " SSLContexts built once, no records or checks, run concurrently on a thread pool of"
        f" {FLOOR_WORKERS} (the ratio's baseline) and one after another (shown for"
        " reference). Both talk to the same in-process bundled server (demo app),"
        f" interleaved, after {WARMUPS} warm-ups; the WebSocket exchanges include the closing"
        " handshake, as the plugin's probe closes its connection."
    )
    with (
        bundled_server() as server,
        Plugin(server) as plugin,
        ThreadPoolExecutor(FLOOR_WORKERS, thread_name_prefix="floor") as floor_pool,
    ):
        contexts = _floor.Contexts.build(str(server.ca.ca_pem))
        https, http = port_of(server.https_url), port_of(server.http_url)
        for protocol, path in REQUIREMENTS:
            requirement = Requirement(protocol, path)
            planned = _floor.plan(protocol, path, https, http, contexts)
            verify(plugin.check(requirement))
            for _ in range(WARMUPS):
                plugin.check(requirement)
                _run_floor(planned, floor_pool)
            checks, floor, serial = [], [], []
            for _ in range(bench.settings.check_iterations):  # interleaved: drift hits both
                t0 = time.perf_counter()
                plugin.check(requirement)
                t1 = time.perf_counter()
                _run_floor(planned, floor_pool)
                t2 = time.perf_counter()
                _run_floor(planned, None)
                t3 = time.perf_counter()
                checks.append(t1 - t0)
                floor.append(t2 - t1)
                serial.append(t3 - t2)
            p, f, s = median_ms(checks), median_ms(floor), median_ms(serial)
            report.floors[protocol] = f
            report.add(
                Row(
                    "2",
                    f"{protocol} check ({len(planned)} exchanges) vs concurrent floor",
                    ms(p),
                    ms(f),
                    f"{p / f:.2f}x",
                    f"<= {TARGET_RATIO}x",
                    p / f <= TARGET_RATIO,
                )
            )
            report.note(
                f"2: {protocol} floor = {'; '.join(x.what for x in planned)}; concurrent on"
                f" {FLOOR_WORKERS} threads {f:.1f} ms, one after another {s:.1f} ms"
                f" (plugin/serial floor {p / s:.2f}x)."
            )
            if bench.profile:
                report.note(f"2: profile of 10 {protocol} checks, every thread (tottime):")
                report.notes.extend(
                    "     " + line for line in profile(server, requirement, 10)[-14:]
                )
