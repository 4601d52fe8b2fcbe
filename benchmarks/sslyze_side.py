"""Section 7, SSLyze side by side: a fleet's TLS facts by SSLyze and by pytest-upgrade.

The fleet is section 5's: simulated hosts (one port of ``delay_proxy.py``
each, 25 ms each way) in front of one nginx that serves TLS 1.2 and 1.3
only. SSLyze, the scanner an operator would pick for the TLS versions a host
accepts, scans every host for TLS 1.0, 1.1, 1.2 and 1.3 (its ``--tlsv1``
... ``--tlsv1_3`` scan commands, concurrently, as it scans by default);
pytest-upgrade checks a ``TLS/1.2`` requirement on each host, which asks
the same question of TLS 1.0 and 1.1 and then makes the upgraded request
and judges the answer (a pass needs TLS 1.0 and 1.1 refused, TLS 1.2 or
later accepted). Both must find every host refusing TLS 1.0 and 1.1 and
accepting 1.2 and 1.3; the row is their wall times and the ratio.

SSLyze is a benchmark-only dependency in its own venv (``.venvs/sslyze``,
which ``python3 dev.py bench`` creates; it pins its own cryptography).
Without it the row says so and the section measures nothing.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import time

import _origin
from _harness import ROOT, Bench, HarnessError, Row, declared, run_pytest, seconds, write_suite

SSLYZE = ROOT / ".venvs" / "sslyze" / "bin" / "python"
ONE_WAY_DELAY = 0.025  # section 5's: a 50 ms round trip
_VERSIONS = {  # SSLyze's scan command and result key: accepted by the server?
    "--tlsv1": ("tls_1_0_cipher_suites", False),
    "--tlsv1_1": ("tls_1_1_cipher_suites", False),
    "--tlsv1_2": ("tls_1_2_cipher_suites", True),
    "--tlsv1_3": ("tls_1_3_cipher_suites", True),
}
QUIET = ["-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest"]


def run(bench: Bench) -> None:
    hosts = bench.settings.sslyze_hosts
    label = f"{hosts} hosts at 50 ms RTT, TLS 1.0-1.3 facts, versus SSLyze"
    if not SSLYZE.exists():
        bench.report.add(Row("7", label, f"not measured: no {SSLYZE.relative_to(ROOT)}"))
        return
    origin = _origin.start_origin(bench.scratch / "sslyze-origin")
    try:
        ports, proxy = _origin.start_proxy(origin.port, ONE_WAY_DELAY, hosts, lifetime=900)
    except BaseException:
        origin.stop()
        raise
    try:
        ours = _pytest_upgrade(bench, ports, origin.cafile)
        theirs = _sslyze(bench.scratch / "sslyze.json", ports)
    finally:
        proxy.stop()
        origin.stop()
    bench.report.add(
        Row(
            "7",
            label,
            seconds(ours),
            f"SSLyze {seconds(theirs)}",
            f"{theirs / ours:.1f}x faster",
            ">= 1x (stay ahead)",
            theirs >= ours,
        )
    )
    bench.report.note(
        f"7: both found every one of the {hosts} hosts ({origin.name}) refusing TLS 1.0 and 1.1"
        " and accepting 1.2 and 1.3; SSLyze also lists each version's accepted cipher"
        " suites (one handshake per suite), pytest-upgrade also makes and judges the"
        " upgraded request. Both times are whole runs, interpreter start-up included."
    )


def _pytest_upgrade(bench: Bench, ports: list[int], cafile: str) -> float:
    targets = "".join(f"https://127.0.0.1:{port} ca={cafile} name=host{port}\n" for port in ports)
    files = {"targets.txt": targets, "pytest.ini": declared(["TLS/1.2 /v2/orders/0"])}
    directory = write_suite(bench.scratch / "sslyze_side", files, with_app=False)
    args = [*QUIET, "--upgrade-targets-file=targets.txt"]
    return run_pytest(directory, args, expect_passed=len(ports), env=bench.env)


def _sslyze(report: pathlib.Path, ports: list[int]) -> float:
    argv = [str(SSLYZE), "-m", "sslyze", *_VERSIONS, "--quiet", f"--json_out={report}"]
    argv += [f"127.0.0.1:{port}" for port in ports]
    began = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise HarnessError(f"sslyze exited {done.returncode}: {done.stderr.strip()[-500:]}")
    for result in json.loads(report.read_text())["server_scan_results"]:
        where = result["server_location"]
        scan = result.get("scan_result")
        if result["connectivity_status"] != "COMPLETED" or scan is None:
            raise HarnessError(f"sslyze could not scan {where}: {result['connectivity_status']}")
        for key, accepted in _VERSIONS.values():
            found = bool(scan[key]["result"]["accepted_cipher_suites"])
            if found is not accepted:
                raise HarnessError(f"sslyze says {key} accepted={found} at {where}")
    return elapsed
