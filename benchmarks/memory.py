"""Section 6, memory bounded by the work kept.

The peak RSS (VmHWM) of a pytest run of declared ``h2`` requirements
against the bundled server over that of 10, and (tracemalloc, after a full
garbage collection) the memory each finished requirement leaves behind.
"""

from __future__ import annotations

import json

from _harness import PLUGIN_CONFTEST, Bench, HarnessError, Row, declared, run_pytest, write_suite

MEMORY_BASE = 10  # requirements of the small run the peak RSS is compared with
PEAK_GROWTH_TARGET_MIB = 60
RETAINED_TARGET_KIB = 20

# Measures the inner session from inside and writes memory.json at the end:
# its peak RSS (VmHWM), and, with tracemalloc on, the Python memory still
# allocated after a full collection once WARMUP items are done and once the
# last one is (before the session's summaries): what each finished
# requirement leaves behind.
MEMORY_CONFTEST = """
import gc
import json
import tracemalloc

WARMUP = {warmup}
TRACE = {trace}


class _Memory:
    def __init__(self, config):
        self.config = config
        self.done = 0
        self.total = None
        self.numbers = {{}}
        if TRACE:
            tracemalloc.start()

    def _retained(self):
        gc.collect()
        return tracemalloc.get_traced_memory()[0]

    def pytest_collection_finish(self, session):
        self.total = len(session.items)

    def pytest_runtest_logfinish(self, nodeid):
        self.done += 1
        if TRACE and self.done == WARMUP:
            self.numbers["warm_bytes"] = self._retained()
        if TRACE and self.done == self.total:
            self.numbers["last_bytes"] = self._retained()

    def pytest_unconfigure(self, config):
        with open("/proc/self/status") as status:
            fields = dict(line.split(":", 1) for line in status)
        self.numbers["peak_rss_kib"] = int(fields["VmHWM"].split()[0])
        self.numbers["items"] = self.done
        (config.rootpath / "memory.json").write_text(json.dumps(self.numbers))


def pytest_configure(config):
    config.pluginmanager.register(_Memory(config), "memory-measure")
"""


def _measured(
    bench: Bench, name: str, count: int, *, trace: bool = False, warmup: int = 0
) -> dict[str, int]:
    """The numbers of a run of ``count`` declared h2 requirements, measured from inside."""
    files = {
        "pytest.ini": declared([f"h2 /v2/orders/{i}" for i in range(count)]),
        "conftest.py": PLUGIN_CONFTEST + MEMORY_CONFTEST.format(warmup=warmup, trace=trace),
    }
    directory = write_suite(bench.scratch / name, files)
    run_pytest(directory, ["-q", "-p", "no:cacheprovider"], expect_passed=count, env=bench.env)
    numbers: dict[str, int] = json.loads((directory / "memory.json").read_text())
    if numbers["items"] != count:
        raise HarnessError(f"the memory run finished {numbers['items']} of {count} items")
    return numbers


def run(bench: Bench) -> None:
    n, report = bench.settings.memory_requirements, bench.report
    small = _measured(bench, "memory_small", MEMORY_BASE)
    large = _measured(bench, "memory_large", n)
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
    m = bench.settings.retained_requirements
    warmup = m // 6
    traced = _measured(bench, "memory_traced", m, trace=True, warmup=warmup)
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
