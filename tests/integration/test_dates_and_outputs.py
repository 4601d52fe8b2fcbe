"""The gate's dates and the report files under stress, as users run them (issue 32).

One evaluation date per run (under pytest-xdist too), one strict date parser,
a check that raises is an error everywhere, the calendar's ends render in
every report, and a report path that cannot be written is one line and exit 4
after the tests ran, without taking the other reports down.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from support.apps import conftest_source

DEPRECATED = ("Deprecation", "@1764547200")  # 2025-12-01
GATED = """
import pytest

@pytest.mark.requires_upgrade("h2", path="/never", after="9999-12-31")
def test_never():
    pass

@pytest.mark.requires_upgrade("h2", path="/always", after="0001-01-01")
def test_always():
    pass
"""
REPORTS = ("--upgrade-report=r.json", "--upgrade-html=r.html", "--upgrade-markdown=r.md")


def run(pytester: pytest.Pytester, *args: str, xdist: bool = False) -> pytest.RunResult:
    extra = ("-n", "2") if xdist else ()
    if xdist:
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", *extra, *args)
    return pytester.runpytest("-p", "no:cacheprovider", *args)


@pytest.mark.parametrize("xdist", [False, True], ids=["plain", "xdist"])
def test_the_calendar_ends_are_judged_and_render_everywhere(
    pytester: pytest.Pytester, xdist: bool
) -> None:
    sunset = ("Sunset", "Fri, 31 Dec 9999 00:00:00 GMT")
    pytester.makeconftest(conftest_source(legacy_status=200, legacy_headers=[DEPRECATED, sunset]))
    pytester.makepyfile(test_suite=GATED)
    result = run(pytester, "-rA", *REPORTS, "--junitxml=j.xml", xdist=xdist)
    # after=9999-12-31: announced and served, it passes; after=0001-01-01: long due, enforced.
    result.assert_outcomes(passed=1, failed=1)
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    result.stdout.fnmatch_lines(
        [
            "FAILED  h2 GET /always after=0001-01-01 (deadline 0001-01-01, as of *: enforced for"
            " * day(s)) [[]status-426]*test_suite.py::test_always",
            "PASSED  h2 GET /never after=9999-12-31 (deadline 9999-12-31, as of *: * day(s) left)"
            "*test_suite.py::test_never",
        ]
    )
    document = json.loads((pytester.path / "r.json").read_text())
    checks = {c["id"]: c["outcome"] for e in document["results"] for c in e["checks"]}
    assert checks["sunset-header"] == "passed"
    page = (pytester.path / "r.html").read_text()
    assert "<time>9999-12-31</time>" in page
    assert "<time>0001-01-01</time>" in page
    markdown = (pytester.path / "r.md").read_text()
    assert "after=9999-12-31" in markdown
    assert "after=0001-01-01" in markdown
    ET.parse(pytester.path / "j.xml")


BROKEN_CHECK = """
import dataclasses

from pytest_upgrade.checks.catalogue import REGISTRY


def _raises(observation):
    raise OverflowError("date value out of range")


# A check with a bug: what the plugin does with it is under test.
_CHECK = REGISTRY["upgrade-unswitchable"]
REGISTRY["upgrade-unswitchable"] = dataclasses.replace(_CHECK, function=_raises)


def pytest_unconfigure(config):
    REGISTRY["upgrade-unswitchable"] = _CHECK  # pytester's in-process runs share the registry
"""
ONE = """
import pytest

@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_orders():
    pass
"""


def test_a_check_that_raises_is_an_error_in_every_report(pytester: pytest.Pytester) -> None:
    # Under xdist an error reaches every report as test_every_result.py's crashing probe does.
    pytester.makeconftest(conftest_source(legacy_status=200) + BROKEN_CHECK)
    pytester.makepyfile(test_suite=ONE)
    result = run(pytester, "-rA", *REPORTS, "--junitxml=j.xml")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*cannot evaluate h2 GET /v2/orders: upgrade-unswitchable: the check itself failed:"
            " OverflowError: date value out of range*",
            "ERROR   h2 GET /v2/orders: upgrade-unswitchable: the check itself failed*",
        ]
    )
    (entry,) = json.loads((pytester.path / "r.json").read_text())["results"]
    assert entry["verdict"] == "error"
    assert "OverflowError" in entry["error"]
    checks = {c["id"]: c["outcome"] for c in entry["checks"]}
    assert checks["upgrade-unswitchable"] == "error"
    page = (pytester.path / "r.html").read_text()
    assert re.search(r'data-count="error"><span class="n">1</span>', page)
    assert re.search(r'data-count="passed"><span class="n">0</span>', page)
    assert re.search(r'data-count="skipped"><span class="n">0</span>', page)
    assert "‼ error" in (pytester.path / "r.md").read_text()
    case = ET.parse(pytester.path / "j.xml").getroot().find(".//testcase")
    assert case is not None
    assert case.find("error") is not None
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties["upgrade h2 GET /v2/orders upgrade-unswitchable"] == "error"


# -- one evaluation date per run ----------------------------------------------------------

CLOCK_AT_MIDNIGHT = """
import datetime as dt
import types

from pytest_upgrade.glue import lifecycle


class _Clock(dt.datetime):
    moment = None

    @classmethod
    def now(cls, tz=None):
        return cls.moment


def pytest_configure(config):
    # The controller reads the clock a second before midnight; its workers,
    # started later, would read it on the next day.
    worker = hasattr(config, "workerinput")
    _Clock.moment = dt.datetime(2026, 12, 2 if worker else 1, 0 if worker else 23,
                                0 if worker else 59, 1 if worker else 59, tzinfo=dt.UTC)
    lifecycle.dt = types.SimpleNamespace(datetime=_Clock, date=dt.date, UTC=dt.UTC)


def pytest_unconfigure(config):
    lifecycle.dt = dt
"""
AT_MIDNIGHT = """
import pytest

@pytest.mark.parametrize("n", range(4))
@pytest.mark.requires_upgrade("h2", path="/v2/orders", after="2026-12-02")
def test_orders(n):
    pass
"""


def test_xdist_workers_judge_as_of_the_controllers_date(pytester: pytest.Pytester) -> None:
    sunset = ("Sunset", "Wed, 02 Dec 2026 00:00:00 GMT")
    pytester.makeconftest(
        conftest_source(legacy_status=200, extra_headers=[DEPRECATED, sunset]) + CLOCK_AT_MIDNIGHT
    )
    pytester.makepyfile(test_suite=AT_MIDNIGHT)
    result = run(pytester, "--upgrade-report=r.json", xdist=True)
    # As of 2026-12-01 (the controller's day) the legacy answer is still due: all pass.
    result.assert_outcomes(passed=4)
    document = json.loads((pytester.path / "r.json").read_text())
    assert document["as_of"] == "2026-12-01"
    assert {e["as_of"] for e in document["results"]} == {"2026-12-01"}
    assert {e["days_left"] for e in document["results"]} == {1}


# -- Sunset as operators send it --------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "line"),
    [
        pytest.param(
            [DEPRECATED, ("Sunset", "Sun, 01 Nov 2026 00:00:00 GMT")],
            "*✘ sunset-header*Sunset (2026-11-01) is already past as of 2026-12-01*, before the"
            " deadline 2027-06-01*",
            id="past",
        ),
        pytest.param(
            [DEPRECATED, ("Sunset", "Tue, 01 Jun 2027 00:00:00 GMT")] * 2,
            "*✘ sunset-header*Sunset appears twice with the same value*",
            id="twice",
        ),
        pytest.param(
            [DEPRECATED, ("Sunset", "Tue, 01 Jun 2027 12:00:00 GMT")],
            "*✘ sunset-header*Sunset (2027-06-01 12:00:00 UTC) is later than the declared"
            " deadline 2027-06-01 (enforced from 00:00 UTC)*",
            id="later-on-the-deadline-day",
        ),
    ],
)
def test_sunset_findings(
    pytester: pytest.Pytester, headers: list[tuple[str, str]], line: str
) -> None:
    pytester.makeconftest(conftest_source(legacy_status=200, extra_headers=headers))
    pytester.makepyfile(
        test_suite=ONE.replace('path="/v2/orders"', 'path="/v2/orders", after="2027-06-01"')
    )
    result = run(pytester, "--upgrade-as-of=2026-12-01")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([line])


# -- declared paths with a query; Markdown in paths ---------------------------------------


def test_a_declared_requirement_path_carries_a_query(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(conftest_source())
    result = run(pytester, "--upgrade-require=h2 /orders/42?x=1", "-rA", "--upgrade-report=r.json")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["PASSED  h2 GET /orders/42?x=1  *"])
    (entry,) = json.loads((pytester.path / "r.json").read_text())["results"]
    assert entry["requirement"]["path"] == "/orders/42?x=1"
    assert all(e["url"].endswith("/orders/42?x=1") for e in entry["exchanges"] if e["url"])


def test_markdown_keeps_the_asterisks_of_a_path(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(conftest_source(legacy_status=200))
    result = run(pytester, "--upgrade-require=h2 /plain*emph*", "--upgrade-markdown=r.md")
    result.assert_outcomes(failed=1)
    assert r"h2 GET /plain\*emph\*" in (pytester.path / "r.md").read_text()


# -- report paths that cannot be written --------------------------------------------------


# Each unwritable path once, and one of them under xdist too (the controller
# writes the report; the kind of path is not the workers' concern).
@pytest.mark.parametrize(
    ("xdist", "path", "reason"),
    [
        pytest.param(False, "pytest.ini/x.json", "Not a directory (pytest.ini is a file)"),
        pytest.param(False, ".", "Is a directory"),
        pytest.param(False, "/proc/x.json", "*"),
        pytest.param(True, "pytest.ini/x.json", "Not a directory (pytest.ini is a file)"),
    ],
    ids=["plain-file-as-directory", "plain-directory", "plain-proc", "xdist-file-as-directory"],
)
def test_an_unwritable_json_report_is_one_line_and_exit_4(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    reason: str,
    xdist: bool,
) -> None:
    pytester.makefile(".ini", pytest="[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makeconftest(conftest_source())
    pytester.makepyfile(test_suite=ONE)
    step_summary = pytester.path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    result = run(pytester, "-q", f"--upgrade-report={path}", "--upgrade-markdown=r.md", xdist=xdist)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines([f"ERROR: --upgrade-report: cannot write {path}: {reason}"])
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output
    assert "INTERNALERROR" not in output
    # On a line of its own, never after the progress dots.
    assert all(line.startswith("ERROR: ") for line in output.splitlines() if "ERROR: --" in line)
    assert "1 passed" in result.stdout.str()  # the tests ran
    # The other reports are still written.
    assert "`test_suite.py::test_orders`" in (pytester.path / "r.md").read_text()
    assert "`test_suite.py::test_orders`" in step_summary.read_text()
