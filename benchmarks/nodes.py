"""Section 8, nodes: a pool's nodes behind one name, each probed as a node, behind the
delay proxy (25 ms each way).

One deployment, ``https://localhost:PORT``, whose nodes are loopback addresses
(127.0.2.1, 127.0.2.2, ...: one proxy port on each, ``--upgrade-resolve``), x
requirements each: as many (node, requirement) items as section 5 (b)'s
(hosts x requirements), with the defaults, serial (a sample of nodes, scaled)
and probed ahead, with the ratio to the same latency floor (3 round trips x
items / items in flight). Each node is a host of its own for
``--upgrade-host-limit``, so per-node probing costs what a fleet of as many
hosts does.
"""

from __future__ import annotations

import statistics

import _origin
from _harness import Bench, Row, declared, run_pytest, seconds, write_suite
from latency import FLOOR_RATIO_TARGET, LATENCY_TARGET_S, ONE_WAY_DELAY, QUIET, ROUND_TRIPS

from pytest_upgrade.glue.ahead import ESTIMATED_CONNECTIONS
from pytest_upgrade.glue.settings import DEFAULT_CONCURRENCY
from pytest_upgrade.probes.engine import DEFAULT_HOST_LIMIT


def run(bench: Bench) -> None:
    nodes, per_node = bench.settings.latency_hosts, bench.settings.latency_per_host
    addresses = [f"127.0.2.{n}" for n in range(1, nodes + 1)]
    origin = _origin.start_origin(bench.scratch / "nodes-origin")
    try:
        ports, proxy = _origin.start_proxy(
            origin.port, ONE_WAY_DELAY, 1, lifetime=1800, addresses=addresses
        )
    except BaseException:
        origin.stop()
        raise
    try:
        _pool(bench, ports[0], origin, addresses, per_node)
    finally:
        proxy.stop()
        origin.stop()


def _pool(
    bench: Bench, port: int, origin: _origin.Origin, addresses: list[str], per_node: int
) -> None:
    nodes = len(addresses)
    requirements = [f"h2 /v2/orders/{i}" for i in range(per_node)]
    directory = write_suite(
        bench.scratch / "nodes_pool", {"pytest.ini": declared(requirements)}, with_app=False
    )
    base = [
        *QUIET,
        f"--upgrade-target=https://localhost:{port}",
        f"--upgrade-ca={origin.cafile}",
        f"--upgrade-resolve=localhost:{port}:{','.join(addresses)}",
    ]
    items = nodes * per_node
    env, runs = bench.env, bench.settings.latency_runs
    # -k by the id's end, "127.0.2.1]" (no "@": pytest reads @FILE arguments as files).
    run_pytest(directory, [*base, "-k", f"{addresses[0]}]"], expect_passed=per_node, env=env)
    # Serial cost is linear in the items: a sample of nodes is measured and scaled.
    sampled = max(1, min(nodes, bench.settings.latency_serial_sample // per_node))
    selected = " or ".join(f"{a}]" for a in addresses[:sampled])
    serial = run_pytest(
        directory,
        [*base, "--upgrade-concurrency=1", "-k", selected],
        expect_passed=sampled * per_node,
        env=env,
    ) * (nodes / sampled)
    concurrent = statistics.median(
        run_pytest(directory, base, expect_passed=items, env=env) for _ in range(runs)
    )
    in_flight = min(
        items, DEFAULT_CONCURRENCY, nodes * (DEFAULT_HOST_LIMIT // ESTIMATED_CONNECTIONS)
    )
    floor = ROUND_TRIPS * 2 * ONE_WAY_DELAY * items / in_flight
    label = f"1 name, {nodes} nodes x {per_node} h2 requirements"
    report = bench.report
    report.add(
        Row(
            "8",
            f"{label}: serial (measured {sampled * per_node}, x{nodes / sampled:.3g})",
            seconds(serial),
        )
    )
    report.add(
        Row(
            "8",
            f"{label}: probe ahead (defaults) (median of {runs})",
            seconds(concurrent),
            f"floor {seconds(floor)}",
            f"{concurrent / floor:.2f}x floor",
            f"<= {LATENCY_TARGET_S:g} s, <= {FLOOR_RATIO_TARGET:g}x",
            concurrent <= LATENCY_TARGET_S and concurrent / floor <= FLOOR_RATIO_TARGET,
        )
    )
    report.note(
        f"8: {label}: the nodes are {nodes} loopback addresses named with --upgrade-resolve,"
        f" one port of benchmarks/delay_proxy.py on each ({ONE_WAY_DELAY * 1000:g} ms each way)"
        f" in front of one {origin.name}; {serial / concurrent:.1f}x faster than serial;"
        f" the floor is {ROUND_TRIPS} round trips x {items} items / {in_flight} in flight ="
        f" {floor:.2f} s, as section 5 (b)'s fleet of as many hosts."
    )
