"""No leaks, clean under load: descriptors, threads, memory, temporary keys.

The inner sessions run in subprocesses (their own descriptors and threads)
with ``-W error::ResourceWarning``; a conftest plugin measures from inside
and writes the numbers to a JSON file this module reads.
"""

from __future__ import annotations

import json
import pathlib
import re
from typing import Any

import pytest

from pytest_upgrade.probes.engine import DEFAULT_HOST_LIMIT
from support.apps import STARTUP_FAILS, conftest_source
from support.suites import marked, suite

STRICT_WARNINGS = (
    "-W",
    "error::ResourceWarning",
    "-W",
    "error::pytest.PytestUnraisableExceptionWarning",
    # pytest-rerunfailures (installed with the test extra) keeps a listening
    # socket and a thread of its own for the whole session when pytest-xdist
    # is installed (its status database): not this plugin's to release.
    "-p",
    "no:rerunfailures",
)

# Measures the process from inside: at configure, after a warm-up of
# WARMUP items (the server, the probe pool and the TLS contexts exist by
# then), after the last item but one (the session's fixtures end with the
# last), and at unconfigure (after session teardown).
# Each snapshot follows a full garbage collection, so it counts what is
# retained, not what is merely waiting for the collector. With TRACE,
# tracemalloc counts the Python memory still allocated: what each finished
# requirement leaves behind, whatever the allocator keeps in its arenas.
MEASURE = """

import gc as _gc
import json as _json
import os as _os
import threading as _threading
import time as _time
import tracemalloc as _tracemalloc

import pytest as _pytest

WARMUP = {warmup}
TRACE = {trace}
# How long the last item's connections may take to be released by the
# server thread: half its keep-alive timeout, which would hold them otherwise.
SETTLE = {settle}


def _connections():
    from hypercorn.asyncio.tcp_server import TCPServer

    return sum(isinstance(o, TCPServer) for o in _gc.get_objects())


def _snapshot(settle=False):
    _gc.collect()
    deadline = _time.monotonic() + SETTLE
    while settle and _connections() and _time.monotonic() < deadline:
        _time.sleep(0.02)
        _gc.collect()
    fds = _os.listdir("/proc/self/fd")
    sockets = 0
    for fd in fds:
        try:
            sockets += _os.readlink(f"/proc/self/fd/{{fd}}").startswith("socket:")
        except OSError:
            pass
    with open("/proc/self/status") as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return {{
        "fds": len(fds),
        "sockets": sockets,
        "threads": sorted(t.name for t in _threading.enumerate()),
        "rss_kib": rss,
        "traced": _tracemalloc.get_traced_memory()[0] if TRACE else None,
        "connections": _connections() if settle else None,
    }}


def _types():
    import collections
    names = (type(o).__module__ + "." + type(o).__qualname__ for o in _gc.get_objects())
    return dict(collections.Counter(names))


class _Measure:
    def __init__(self, config):
        self.config = config
        self.numbers = {{"configure": _snapshot()}}
        self.done = 0
        self.total = None
        if TRACE:
            _tracemalloc.start()

    def pytest_collection_finish(self, session):
        self.total = len(session.items)

    def pytest_runtest_logfinish(self, nodeid):
        self.done += 1
        if self.done == WARMUP:
            self.numbers["warm"] = _snapshot(settle=True)
            self.types = _types()
        if self.total is not None and self.done == self.total - 1:
            # The last but one: session fixtures (the server) end with the last.
            self.numbers["last"] = _snapshot(settle=True)

    @_pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config):
        if hasattr(self, "types"):
            now = _types()
            delta = {{k: now.get(k, 0) - self.types.get(k, 0) for k in now}}
            self.numbers["type_growth"] = sorted(delta.items(), key=lambda kv: -kv[1])[:15]
        self.numbers["unconfigure"] = _snapshot()
        self.numbers["items"] = self.done
        (config.rootpath / "measure.json").write_text(_json.dumps(self.numbers))


def pytest_configure(config):
    config.pluginmanager.register(_Measure(config), "leak-measure")


@_pytest.fixture(scope="session", autouse=True)
def _record_ca_dir(request):
    server = request.getfixturevalue("upgrade_server")
    directory = server.ca.ca_pem.parent
    (request.config.rootpath / "ca_dir.txt").write_text(str(directory))
"""


def _measuring_conftest(*, warmup: int, trace: bool = False) -> str:
    from pytest_upgrade.server.bundled import _KEEP_ALIVE_TIMEOUT

    return MEASURE.format(warmup=warmup, trace=trace, settle=_KEEP_ALIVE_TIMEOUT / 2)


def _measure(pytester: pytest.Pytester) -> dict[str, Any]:
    return json.loads((pytester.path / "measure.json").read_text())


def _server_threads(snapshot: dict[str, Any]) -> list[str]:
    return [name for name in snapshot["threads"] if name.startswith("pytest-upgrade")]


# What one finished requirement may keep: its result (for the summary and the
# JSON report), its item and pytest's reports of it; about 11 KiB are measured
# (benchmarks/bench.py, row 6). A leaked connection would be 256 KiB or more.
RETAINED_PER_REQUIREMENT = 20 * 1024
# RSS is what the allocator holds, not what is retained: only a bound that no
# arena growth on a loaded machine reaches, and that a leak per probe would
# pass by far (4,000 TLS connections' buffers are about 1 GiB).
RSS_GROWTH_BOUND_KIB = 64 * 1024


@pytest.mark.slow
def test_thousand_requirement_checks_leak_nothing(pytester: pytest.Pytester) -> None:
    count, warmup = 1000, 200
    lines = "\n".join(f"    h2 /v2/orders/{n}" for n in range(count))
    pytester.makeini(
        f"""
[pytest]
addopts = -p no:hypothesispytest
asyncio_default_fixture_loop_scope = function
upgrade_requirements =
{lines}
"""
    )
    pytester.makeconftest(conftest_source() + _measuring_conftest(warmup=warmup, trace=True))
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-q", "--upgrade-timeout=5", *STRICT_WARNINGS
    )
    result.assert_outcomes(passed=count)
    assert "ResourceWarning" not in result.stdout.str() + result.stderr.str()
    numbers = _measure(pytester)
    assert numbers["items"] == count
    warm, last, start, end = (
        numbers["warm"],
        numbers["last"],
        numbers["configure"],
        numbers["unconfigure"],
    )
    # From the warm-up to the last items: no descriptor, socket or thread more,
    # and every connection the probes closed has been released by the server; what
    # stays open is the kept-alive connections (probes.reuse), within the host limit.
    assert last["fds"] <= warm["fds"] + 2, (warm, last)
    assert last["sockets"] <= warm["sockets"] + 1, (warm, last)
    assert len(last["threads"]) <= len(warm["threads"]), (warm["threads"], last["threads"])
    assert last["connections"] <= DEFAULT_HOST_LIMIT, last
    retained = (last["traced"] - warm["traced"]) / (count - 1 - warmup)
    assert retained <= RETAINED_PER_REQUIREMENT, (retained, numbers.get("type_growth"))
    assert last["rss_kib"] - warm["rss_kib"] <= RSS_GROWTH_BOUND_KIB, (warm, last)
    # After the session: the server, its sockets and the probe pool are gone.
    assert end["sockets"] <= start["sockets"], (start, end)
    assert end["fds"] <= start["fds"] + 2, (start, end)
    assert not _server_threads(end), end["threads"]
    assert not pathlib.Path((pytester.path / "ca_dir.txt").read_text()).exists()


ABORTING = {
    "keyboard-interrupt": """
import pytest

@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_a_first():
    pass

def test_b_interrupted():
    raise KeyboardInterrupt

def test_c_never_runs():
    pass
""",
    "failing-fixture": """
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("the fixture broke on purpose")

@pytest.fixture(scope="session")
def broken_session(upgrade_server):
    raise RuntimeError("the session fixture broke on purpose")

@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_a_marked_with_broken_fixture(broken):
    pass

def test_b_broken_session_fixture(broken_session):
    pass

@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_c_after(upgrade):
    assert upgrade.upgraded.response.status == 200
""",
}


@pytest.mark.parametrize("name", list(ABORTING))
def test_aborted_session_leaves_nothing_behind(pytester: pytest.Pytester, name: str) -> None:
    pytester.makeconftest(conftest_source() + _measuring_conftest(warmup=1))
    pytester.makepyfile(test_abort=ABORTING[name])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *STRICT_WARNINGS)
    text = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in text
    if name == "keyboard-interrupt":
        assert result.ret == pytest.ExitCode.INTERRUPTED
        assert "test_c_never_runs" not in text
    else:
        result.assert_outcomes(passed=1, errors=2)
        result.stdout.fnmatch_lines(["*the fixture broke on purpose*"])
    numbers = _measure(pytester)
    start, end = numbers["configure"], numbers["unconfigure"]
    assert not _server_threads(end), end["threads"]
    assert end["sockets"] <= start["sockets"], (start, end)
    assert end["fds"] <= start["fds"] + 2, (start, end)
    ca_dir = pathlib.Path((pytester.path / "ca_dir.txt").read_text())
    assert ca_dir.name.startswith("pytest-upgrade-ca-")
    assert not ca_dir.exists()


def test_app_that_does_not_start_leaves_nothing_behind(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        STARTUP_FAILS
        + _measuring_conftest(warmup=1)
        .replace("def _record_ca_dir", "def _unused")
        .replace("autouse=True", "autouse=False")
    )
    pytester.makepyfile(
        test_start="""
import pytest

@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_a():
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *STRICT_WARNINGS)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*the bundled server did not start*database unreachable*"])
    numbers = _measure(pytester)
    start, end = numbers["configure"], numbers["unconfigure"]
    assert not _server_threads(end), end["threads"]
    assert end["sockets"] <= start["sockets"], (start, end)


# -- xdist: the same verdicts and report as a serial run ----------------------------

MIXED_SUITE = suite(
    marked("test_h2_passes", "h2", "/v2/orders"),
    """@pytest.mark.requires_upgrade("h2", path="/v2/orders/{n}")
@pytest.mark.parametrize("n", range(4))
def test_h2_many(n):
    pass
""",
    marked("test_h2c_fails", "h2c", "/v2/orders"),
    marked("test_http11_fails", "HTTP/1.1", "/legacy"),
    marked("test_websocket_fails", "websocket", "/ws"),
    marked("test_gate_fails", "h2", "/v2/orders", after="2099-01-01"),
    """@pytest.fixture
def broken():
    raise RuntimeError("broken on purpose")

@pytest.mark.requires_upgrade("h2", path="/v2/broken")
def test_marked_with_broken_fixture(broken):
    pass
""",
)

_VOLATILE = [
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    # The bundled server's HTTP/3 advertisement (with aioquic installed).
    (re.compile(r'h3=":\d+"'), 'h3=":PORT"'),
    (re.compile(r"/tmp/pytest-upgrade-ca-[^/\s\"']+"), "/tmp/pytest-upgrade-ca-X"),
    (re.compile(r"\d+(\.\d+)? ?ms\b"), "N ms"),
    # The reports' exchanges: Date fields, WebSocket keys and their accept values.
    (re.compile(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT"), "DATE"),
    (re.compile(r"(?<![A-Za-z0-9+/])([A-Za-z0-9+/]{22}==|[A-Za-z0-9+/]{27}=)"), "BASE64"),
]


def _normalized(value: Any) -> Any:
    if isinstance(value, dict):
        # Which requests went over a kept-alive connection depends on the scheduling
        # (probes.reuse): a fact about connections, not a verdict.
        return {k: _normalized(v) for k, v in value.items() if k != "reused"}
    if isinstance(value, list):
        return [_normalized(v) for v in value]
    if isinstance(value, str):
        for pattern, replacement in _VOLATILE:
            value = pattern.sub(replacement, value)
    return value


def _verdicts(result: pytest.RunResult) -> list[str]:
    lines = [
        line
        for line in result.outlines
        if re.match(r"(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) ", line) and "::" in line
    ]
    return sorted(_normalized(line.split(" - ")[0]) for line in lines)


def test_xdist_verdicts_and_report_equal_a_serial_run(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(conftest_source())
    pytester.makepyfile(test_mixed=MIXED_SUITE)
    reports = {}
    verdicts = {}
    for mode, extra in (("serial", ()), ("xdist", ("-n", "2"))):
        report = pytester.path / f"{mode}.json"
        result = pytester.runpytest_subprocess(
            "-p",
            "no:cacheprovider",
            "-rA",
            "--upgrade-as-of=2026-01-01",
            "--upgrade-require=h2 /declared",
            f"--upgrade-report={report}",
            *extra,
        )
        assert "INTERNALERROR" not in result.stdout.str()
        # Two warnings, both of the failing websocket test: problem-actionable, and
        # websocket-over-h2 (its route answers the extended CONNECT with 500).
        result.assert_outcomes(passed=7, failed=3, errors=1, warnings=2)
        verdicts[mode] = _verdicts(result)
        document = json.loads(report.read_text())
        document["results"].sort(key=lambda entry: entry["nodeid"])
        reports[mode] = _normalized(document)
    assert verdicts["xdist"] == verdicts["serial"]
    assert len(reports["serial"]["results"]) >= 10
    assert reports["xdist"] == reports["serial"]
