"""pytest-upgrade benchmarks: one command, one table of medians and ratios.

    python benchmarks/bench.py            full run (FULL settings)
    python benchmarks/bench.py --quick    few iterations, for CI (QUICK; no assertion on times)

Measured in one run, on loopback (127.0.0.1) only, one module per section
(each with one entry point, ``run(bench)``; what it measures is its docstring):

1. ``start``: session start, in-process and in a fresh pytest session.
2. ``checks``: one complete check per requirement, as the plugin evaluates it,
   versus the floor (the same exchanges with bare sockets, ``_floor``).
3. ``suites``: a generated suite of marked tests versus a hand-written one.
4. ``runbook``: the facts of one h2 requirement by hand versus the plugin's check.
5. ``latency``: declared requirements behind a delaying proxy, versus the floor.
6. ``memory``: peak RSS and the memory each finished requirement leaves behind.
7. ``sslyze_side``: a fleet's TLS versions by SSLyze and by pytest-upgrade, side by side.
8. ``nodes``: a pool's nodes behind one name, each probed, versus the latency floor.

The exit status is 0 whatever the times are; it is 1 only when something the
benchmark relies on went wrong (a check or a suite failed, a server did not
start), so that CI notices a harness that rotted. ``--profile`` adds a cProfile
summary of each requirement's check (section 2), its probe threads included.
"""

from __future__ import annotations

import argparse
import pathlib
import shutil
import sys
import tempfile
import time
from collections.abc import Callable

import checks
import cpu
import latency
import memory
import nodes
import runbook
import sslyze_side
import start
import suites
from _harness import FULL, QUICK, Bench, HarnessError, Report, Row, subprocess_env

SECTIONS: dict[str, Callable[[Bench], None]] = {
    "1": start.run,
    "2": checks.run,
    "3": suites.run,
    "4": runbook.run,
    "5": latency.run,
    "6": memory.run,
    "7": sslyze_side.run,
    "8": nodes.run,
    "9": cpu.run,
}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few iterations (CI)")
    parser.add_argument("--profile", action="store_true", help="cProfile each check (section 2)")
    parser.add_argument(
        "--only", default="".join(SECTIONS), help="sections to run, e.g. --only 25 (default: all)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated suites")
    return parser.parse_args(argv)


def _sections(bench: Bench, only: str) -> int:
    """Run the sections selected, in order: 1 when the harness failed in any."""
    code = 0
    for number, section in SECTIONS.items():
        if number not in only:
            continue
        print(f"section {number} ...", flush=True)
        began = time.perf_counter()
        try:
            section(bench)
        except HarnessError as exc:
            print(f"bench: section {number}: harness failure: {exc}", file=sys.stderr)
            bench.report.add(Row(number, f"section {number}", "FAILED (see stderr)", met=False))
            code = 1
        bench.report.timings.append(f"{number}: {time.perf_counter() - began:.0f} s")
    return code


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    began = time.perf_counter()
    settings = QUICK if args.quick else FULL
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="pytest-upgrade-bench-"))
    env = subprocess_env(scratch / "pycache")
    bench = Bench(settings, Report(), scratch, env, profile=args.profile)
    try:
        code = _sections(bench, args.only)
    finally:
        if args.keep:
            print(f"generated files kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print()
    print(bench.report.render(settings, time.perf_counter() - began))
    return code


if __name__ == "__main__":
    sys.exit(main())
