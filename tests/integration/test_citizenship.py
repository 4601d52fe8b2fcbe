"""The plugin beside the plugins people run every day, and under their warning filters.

Each case runs a pytester suite against the bundled server with another
plugin's options and reads that plugin's own output: its JSON file
(pytest-json-report), its failure text (pytest-timeout), its rerun count
(pytest-rerunfailures). A plugin that is not installed skips its test.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from support.apps import conftest_source
from support.check_fields import expect_run
from support.suites import marked, suite, unmarked

# A failing marked test, then a plain test: the order that broke
# pytest-json-report when the plugin decided outcomes before its call wrapper.
FAILING_THEN_PLAIN = suite(marked("test_orders", "h2", "/v2/orders"), unmarked("test_plain"))

# Neither the must-check (Upgrade missing) nor the should-check (not
# problem+json) may hide the other.
BOTH_BROKEN = {"upgrade": None, "content_type": "text/plain", "body": "Use HTTP/2."}
SHOULD_BROKEN = {"content_type": "text/plain", "body": "Use HTTP/2."}


def _suite(pytester: pytest.Pytester, test: str = FAILING_THEN_PLAIN, **behaviour: object) -> None:
    pytester.makeconftest(conftest_source(**behaviour))
    pytester.makepyfile(test_suite=test)


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly", *args)


def test_beside_pytest_json_report(pytester: pytest.Pytester) -> None:
    pytest.importorskip("pytest_jsonreport", reason="pytest-json-report is not installed")
    _suite(pytester, upgrade=None)
    report = pytester.path / "report.json"
    result = _run(pytester, "--json-report", f"--json-report-file={report}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.assert_outcomes(failed=1, passed=1)
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    tests = {test["nodeid"]: test for test in json.loads(report.read_text())["tests"]}
    orders = tests["test_suite.py::test_orders"]
    assert orders["outcome"] == "failed"
    assert orders["call"]["outcome"] == "failed"
    assert "upgrade-present" in orders["call"]["longrepr"]
    assert tests["test_suite.py::test_plain"]["call"]["outcome"] == "passed"


def test_beside_pytest_timeout(pytester: pytest.Pytester) -> None:
    pytest.importorskip("pytest_timeout", reason="pytest-timeout is not installed")
    slow = """
import time
import pytest

@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_orders(upgrade):
    time.sleep(30)
"""
    _suite(pytester, test=slow)
    report = pytester.path / "upgrade.json"
    # The signal method: the timeout interrupts the body and fails the test.
    result = _run(pytester, "--timeout=3", "--timeout-method=signal", f"--upgrade-report={report}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Failed: Timeout (>3.0s) from pytest-timeout.*"])
    (entry,) = json.loads(report.read_text())["results"]
    # The checks passed before the body ran; the test failed in its body.
    assert (entry["verdict"], entry["outcome"]) == ("passed", "failed")


def test_beside_pytest_rerunfailures(pytester: pytest.Pytester) -> None:
    pytest.importorskip("pytest_rerunfailures", reason="pytest-rerunfailures is not installed")
    _suite(pytester, upgrade=None)
    report = pytester.path / "upgrade.json"
    junit = pytester.path / "junit.xml"
    result = _run(pytester, "--reruns=2", f"--upgrade-report={report}", f"--junitxml={junit}")
    assert result.parseoutcomes() == {"failed": 1, "passed": 1, "rerun": 2}
    # Each attempt probes afresh and fails on the same check; the report has
    # the last attempt, once.
    assert result.stdout.str().count("1 check(s) failed (upgrade-present)") >= 1
    (entry,) = json.loads(report.read_text())["results"]
    assert (entry["nodeid"], entry["outcome"]) == ("test_suite.py::test_orders", "failed")
    # The test case's properties are the last attempt's, not one set per attempt.
    cases = [
        c for c in ET.parse(junit).getroot().iter("testcase") if c.get("name") == "test_orders"
    ]
    case = cases[-1]
    names = [p.get("name") for p in case.iter("property")]
    assert names.count("upgrade h2 GET /v2/orders verdict") == 1, names


@pytest.mark.parametrize(
    "how",
    [
        pytest.param(("-W", "error"), id="-W error"),
        pytest.param(("-o", "filterwarnings=error"), id="filterwarnings=error"),
    ],
)
def test_error_filter_keeps_the_must_check_report(
    pytester: pytest.Pytester, how: tuple[str, str]
) -> None:
    _suite(pytester, **BOTH_BROKEN)
    lines = [
        "*/v2/orders*against*: 1 check(s) failed (upgrade-present)",
        "*✘ upgrade-present [[]must*",
        "*⚠ problem-media-type [[]should*",
    ]
    expect_run(_run(pytester, *how), lines, absent=("Traceback",), failed=1, passed=1)


def test_error_filter_turns_a_should_warning_into_a_failure(pytester: pytest.Pytester) -> None:
    _suite(pytester, **SHOULD_BROKEN)
    warned = _run(pytester)
    warned.assert_outcomes(passed=2, warnings=1)

    result = _run(pytester, "-W", "error::pytest_upgrade.PytestUpgradeWarning")
    lines = [
        "*a should-level warning is an error here (h2 GET /v2/orders: problem-media-type:*",
        "*⚠ problem-media-type [[]should*",
    ]
    expect_run(result, lines, failed=1, passed=1)
