"""Probe ahead, report in order: concurrency against live targets (glue.ahead, probes.engine).

The servers are small raw HTTP/1.x servers on loopback (threads of this
process): one that complies with an ``HTTP/1.1`` requirement, one that
answers 200 where 426 is due, one that never answers, and an ``h2c`` one.
Each counts the connections it holds at once, so the per-host limit is seen
from the server's side.
"""

from __future__ import annotations

import contextlib
import json
import pathlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from support.apps import INNER_INI
from support.hostile import hostile_server, read_head
from support.raw_servers import h2c_endpoint, refusal, response

REQUIREMENTS = (
    "--upgrade-require=HTTP/1.1 /a",
    "--upgrade-require=HTTP/1.1 /b",
    "--upgrade-require=h2c /c",
)
AS_OF = "--upgrade-as-of=2026-01-01"


@dataclass
class Counter:
    """Connections a server holds at once: now, at most, and all it accepted."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    active: int = 0
    most: int = 0
    total: int = 0
    paths: list[str] = field(default_factory=list)

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        with self.lock:
            self.active += 1
            self.total += 1
            self.most = max(self.most, self.active)
        try:
            yield
        finally:
            with self.lock:
                self.active -= 1


def http11_behaviour(
    counter: Counter, *, comply: bool = True, hold: float = 0.0
) -> Callable[[Any], None]:
    """``HTTP/1.1`` required: 426 to HTTP/1.0 (``comply``) or 200 to everything.

    The connection counts as held from its accept until just before the
    answer is sent: the client cannot have let go of it earlier, so the count
    never exceeds what the client holds.
    """

    def behaviour(conn: Any) -> None:
        with counter.holding():
            head = read_head(conn)
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            with counter.lock:
                counter.paths.append(line)
            time.sleep(hold)
        if comply and line.endswith("HTTP/1.0"):
            answer = refusal("HTTP/1.1", "This endpoint requires HTTP/1.1.")
        elif line.startswith("PRI "):
            answer = response(400, "Bad Request", [])
        else:
            answer = response(200, "OK", [("Content-Type", "text/plain")], b"ok")
        conn.sendall(answer)
        conn.close()

    return behaviour


def hanging_behaviour(counter: Counter) -> Callable[[Any], None]:
    """Reads the request and never answers (until the client gives up)."""

    def behaviour(conn: Any) -> None:
        with counter.holding():
            read_head(conn)
            conn.settimeout(30)
            with contextlib.suppress(OSError):
                while conn.recv(65536):
                    pass

    return behaviour


@dataclass
class Fleet:
    targets: pathlib.Path
    counters: dict[str, Counter]


@pytest.fixture
def fleet(tmp_path: pathlib.Path) -> Iterator[Fleet]:
    """Four deployments: compliant, failing, hanging, and an h2c one, in a targets file."""
    counters = {name: Counter() for name in ("good", "bad", "hang", "h2c")}
    behaviours = {
        "good": http11_behaviour(counters["good"]),
        "bad": http11_behaviour(counters["bad"], comply=False),
        "hang": hanging_behaviour(counters["hang"]),
        "h2c": h2c_endpoint(prior_knowledge=True),
    }
    with contextlib.ExitStack() as stack:
        ports = {name: stack.enter_context(hostile_server(b)) for name, b in behaviours.items()}
        path = tmp_path / "targets" / "targets.txt"
        path.parent.mkdir()
        path.write_text(
            "".join(f"http://127.0.0.1:{port} name={name}\n" for name, port in ports.items())
        )
        yield Fleet(path, counters)


def _without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k != "elapsed"}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def _report(pytester: pytest.Pytester, fleet: Fleet, name: str, *args: str) -> dict[str, Any]:
    report = pytester.path / f"{name}.json"
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--upgrade-timeout=1",
        AS_OF,
        f"--upgrade-targets-file={fleet.targets}",
        *REQUIREMENTS,
        f"--upgrade-report={report}",
        *args,
    )
    result.assert_outcomes(passed=3, failed=6, errors=3)
    document: dict[str, Any] = json.loads(report.read_text())
    return _without_timings(document)


def test_verdicts_are_those_of_a_serial_run(pytester: pytest.Pytester, fleet: Fleet) -> None:
    serial = _report(pytester, fleet, "serial", "--upgrade-concurrency=1")
    ahead = _report(pytester, fleet, "ahead")
    ahead_xdist = _report(pytester, fleet, "xdist", "-n", "2")
    verdicts = {r["nodeid"].split("::")[-1]: r["verdict"] for r in serial["results"]}
    assert verdicts == {
        "test_requirement[good HTTP/1.1 GET /a]": "passed",
        "test_requirement[good HTTP/1.1 GET /b]": "passed",
        "test_requirement[good h2c GET /c]": "failed",
        "test_requirement[bad HTTP/1.1 GET /a]": "failed",
        "test_requirement[bad HTTP/1.1 GET /b]": "failed",
        "test_requirement[bad h2c GET /c]": "failed",
        "test_requirement[hang HTTP/1.1 GET /a]": "error",
        "test_requirement[hang HTTP/1.1 GET /b]": "error",
        "test_requirement[hang h2c GET /c]": "error",
        "test_requirement[h2c HTTP/1.1 GET /a]": "failed",
        "test_requirement[h2c HTTP/1.1 GET /b]": "failed",
        "test_requirement[h2c h2c GET /c]": "passed",
    }
    assert ahead == serial
    assert ahead_xdist == serial


def _declared_suite(pytester: pytest.Pytester, count: int) -> None:
    lines = "\n".join(f"    HTTP/1.1 /item/{i}" for i in range(count))
    pytester.makeini(f"{INNER_INI}upgrade_requirements =\n{lines}\n")


def _run_counted(
    pytester: pytest.Pytester, *options: str, hold: float, declared: int = 0, tests: str = ""
) -> tuple[pytest.RunResult, Counter]:
    """The inner run against one counting, complying HTTP/1.1 server (each probe held
    ``hold`` seconds): of ``declared`` requirements in the ini file, or of the test
    module ``tests`` (its ``{url}`` the server's)."""
    counter = Counter()
    with hostile_server(http11_behaviour(counter, hold=hold)) as port:
        url = f"http://127.0.0.1:{port}"
        if tests:
            pytester.makepyfile(test_order=tests.format(url=url))
        else:
            _declared_suite(pytester, declared)
        result = pytester.runpytest("-p", "no:cacheprovider", f"--upgrade-target={url}", *options)
    return result, counter


# 1: one requirement at a time, and its two probes one after the other. Under
# xdist each worker probes with its share of the limit (2 of 4, 2 of 5 with -n 2):
# together they never go past it.
@pytest.mark.parametrize(
    ("limit", "workers"), [(1, []), (4, []), (4, ["-n", "2"]), (5, ["-n", "2"])]
)
def test_the_host_limit_bounds_connections_at_once(
    pytester: pytest.Pytester, limit: int, workers: list[str]
) -> None:
    result, counter = _run_counted(
        pytester,
        "--upgrade-concurrency=16",
        f"--upgrade-host-limit={limit}",
        *workers,
        hold=0.05,
        declared=24,
    )
    result.assert_outcomes(passed=24)
    assert counter.total == 48  # two probes a requirement, each a fresh connection
    if workers:
        assert 2 < counter.most <= 4
    else:
        assert counter.most == limit  # connections overlapped up to the limit, never past it


def test_the_default_host_limit_holds_without_options(pytester: pytest.Pytester) -> None:
    result, counter = _run_counted(pytester, hold=0.05, declared=40)
    result.assert_outcomes(passed=40)
    assert 2 < counter.most <= 8


def test_serial_with_concurrency_one(pytester: pytest.Pytester) -> None:
    result, counter = _run_counted(pytester, "--upgrade-concurrency=1", hold=0.02, declared=6)
    result.assert_outcomes(passed=6)
    assert counter.most <= 2  # one requirement's two probes


def test_a_hanging_target_holds_others_for_its_own_timeout_only(pytester: pytest.Pytester) -> None:
    hang, good = Counter(), Counter()
    with (
        hostile_server(hanging_behaviour(hang)) as hang_port,
        hostile_server(http11_behaviour(good)) as good_port,
    ):
        (pytester.path / "targets.txt").write_text(
            f"http://127.0.0.1:{hang_port} name=hang\nhttp://127.0.0.1:{good_port} name=good\n"
        )
        _declared_suite(pytester, 6)
        started = time.monotonic()
        result = pytester.runpytest(
            "-p",
            "no:cacheprovider",
            "--upgrade-targets-file=targets.txt",
            "--upgrade-timeout=2",
            "--upgrade-host-limit=16",
        )
        elapsed = time.monotonic() - started
    result.assert_outcomes(passed=6, errors=6)
    result.stdout.fnmatch_lines(["*the target did not answer*no answer within 2 s*"])
    # Serially the six hanging requirements cost 6 x 2 s; probed together about 2 s.
    assert elapsed < 8, elapsed


def test_an_interrupted_run_reports_every_finished_result(
    pytester: pytest.Pytester, fleet: Fleet
) -> None:
    # -x stops at the first failure (good's h2c requirement); what was probed
    # ahead is dropped (the hanging deployment's probes already running end
    # within their timeout), and the report holds every finished item.
    report = pytester.path / "report.json"
    started = time.monotonic()
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--upgrade-timeout=3",
        f"--upgrade-targets-file={fleet.targets}",
        *REQUIREMENTS,
        f"--upgrade-report={report}",
        "-x",
    )
    elapsed = time.monotonic() - started
    result.assert_outcomes(passed=2, failed=1)
    results = json.loads(report.read_text())["results"]
    assert [r["verdict"] for r in results] == ["passed", "passed", "failed"]
    assert elapsed < 3 + 5, elapsed  # at most the running probes' timeout


INTERRUPT_CONFTEST = """
def pytest_runtest_logreport(report):
    if report.when == "call" and report.nodeid.endswith("/b]"):
        raise KeyboardInterrupt
"""


def test_ctrl_c_still_writes_the_report(pytester: pytest.Pytester) -> None:
    counter = Counter()
    with hostile_server(http11_behaviour(counter)) as port:
        _declared_suite(pytester, 0)
        pytester.makeconftest(INTERRUPT_CONFTEST)
        report = pytester.path / "report.json"
        # In a subprocess: pytester re-raises a KeyboardInterrupt of an in-process run.
        result = pytester.runpytest_subprocess(
            "-p",
            "no:cacheprovider",
            f"--upgrade-target=http://127.0.0.1:{port}",
            "--upgrade-require=HTTP/1.1 /a",
            "--upgrade-require=HTTP/1.1 /b",
            "--upgrade-require=HTTP/1.1 /c",
            "--upgrade-require=HTTP/1.1 /d",
            f"--upgrade-report={report}",
        )
    assert result.ret == pytest.ExitCode.INTERRUPTED
    paths = [r["requirement"]["path"] for r in json.loads(report.read_text())["results"]]
    assert paths == ["/a", "/b"]


ORDER_TESTS = """
import urllib.request

import pytest

URL = "{url}"


@pytest.mark.requires_upgrade("HTTP/1.1", path="/first")
def test_first(upgrade):
    urllib.request.urlopen(URL + "/body-of-first", timeout=5).read()


@pytest.mark.requires_upgrade("HTTP/1.1", path="/second")
def test_second(upgrade):
    pass
"""


@pytest.mark.parametrize(("mode", "ahead"), [("declared", False), ("all", True)])
def test_marked_tests_keep_their_order_unless_opted_in(
    pytester: pytest.Pytester, mode: str, ahead: bool
) -> None:
    result, counter = _run_counted(
        pytester, f"--upgrade-probe-ahead={mode}", hold=0.2, tests=ORDER_TESTS
    )
    result.assert_outcomes(passed=2)
    paths = [line.split()[1] for line in counter.paths]
    body = paths.index("/body-of-first")
    second = [i for i, path in enumerate(paths) if path == "/second"]
    assert len(second) == 2
    # By default the second test's probes come after the first test's body;
    # with --upgrade-probe-ahead=all they are made while the first one runs.
    assert (max(second) < body) is ahead
    assert (min(second) > body) is not ahead


@pytest.mark.parametrize("concurrency", [1, 32])
def test_each_xdist_worker_probes_ahead_its_own_items(
    pytester: pytest.Pytester, concurrency: int
) -> None:
    result, counter = _run_counted(
        pytester,
        "--upgrade-host-limit=32",
        f"--upgrade-concurrency={concurrency}",
        "-n",
        "2",
        hold=0.1,
        declared=40,
    )
    result.assert_outcomes(passed=40)
    assert counter.total == 80
    # Two workers one requirement at a time hold at most 4 connections.
    assert (counter.most > 4) is (concurrency > 1)
