"""Waivers and baselines as users run them: the usage errors' wiring and every warning,
with pytester.

The bad-file errors are raised when pytest configures the run (nothing is
probed): which files are bad, and their messages, are unit tests
(tests/unit/test_gate_settings.py); the warnings need a run, against the bundled server.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from support.apps import conftest_source
from support.waivers import ONE_WAIVER

MARKED_TEST = """
import pytest

@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_orders():
    pass
"""

GOOD = ONE_WAIVER


def _run(pytester: pytest.Pytester, waivers: str, *args: str) -> pytest.RunResult:
    (pytester.path / "waivers.toml").write_text(waivers)
    return pytester.runpytest("-p", "no:cacheprovider", "--upgrade-waivers=waivers.toml", *args)


def _usage_error(result: pytest.RunResult, line: str, option: str = "--upgrade-waivers") -> None:
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {option}: {line}"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_the_ini_names_the_waivers_file_from_its_directory(pytester: pytest.Pytester) -> None:
    ini = pytester.path / "tox.ini"  # the inner ini of tests/integration/conftest.py
    ini.write_text(ini.read_text() + "\nupgrade_waivers = gate/waivers.toml\n")
    (pytester.path / "gate").mkdir()
    (pytester.path / "gate" / "waivers.toml").write_text(GOOD.replace("until", "untill"))
    result = pytester.runpytest("-p", "no:cacheprovider")
    _usage_error(result, f"{pytester.path / 'gate' / 'waivers.toml'}:1: unknown key 'untill'*")


def test_a_bad_baseline_is_a_usage_error(pytester: pytest.Pytester) -> None:
    # Which files are bad, and their messages: tests/unit/test_gate_settings.py.
    (pytester.path / "baseline.json").write_text("{")
    result = pytester.runpytest("-p", "no:cacheprovider", "--upgrade-baseline=baseline.json")
    _usage_error(result, "baseline.json:1: not JSON *", option="--upgrade-baseline")


def test_a_waiver_no_longer_needed_warns_and_fails_under_strict(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(conftest_source())
    pytester.makepyfile(test_suite=MARKED_TEST)
    text = GOOD + "\n" + GOOD.replace("/v2/orders", "/elsewhere")
    result = _run(pytester, text, "--upgrade-as-of=2027-01-20")
    result.assert_outcomes(passed=1, warnings=2)
    result.stdout.fnmatch_lines(
        [
            "*PytestUpgradeWarning: waiver no longer needed: waivers.toml:1 ('*',"
            " 'h2 /v2/orders') now passes; remove it",
            "*upgrade waivers and baseline*",
            "WARNING waivers.toml:7: the waiver matches nothing in this run (deployment '*',"
            " requirement 'h2 /elsewhere')",
            # Within 14 days of the evaluation date: listed.
            "waiver waivers.toml:1 expires on 2027-01-31 (in 11 day(s)): OPS-9",
            "*warnings summary (final)*",
            "*PytestUpgradeWarning: waivers.toml:7: the waiver matches nothing in this run*",
        ]
    )
    strict = _run(pytester, text, "--upgrade-strict")
    strict.assert_outcomes(failed=1)
    strict.stdout.fnmatch_lines(["*waiver no longer needed: waivers.toml:1 *--upgrade-strict*"])


def test_a_waiver_for_a_node_the_run_does_not_have_matches_nothing(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(conftest_source(legacy_status=200))
    pytester.makepyfile(test_suite=MARKED_TEST)
    report = pytester.path / "report.json"
    result = _run(pytester, GOOD + 'node = "192.0.2.11"\n', f"--upgrade-report={report}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["WARNING waivers.toml:1: the waiver matches nothing*node '192.0.2.11')"]
    )
    assert json.loads(report.read_text())["results"][0]["verdict"] == "failed"


def test_a_waived_marked_test_is_an_xfail_and_only_its_checks(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(conftest_source(legacy_status=200))
    pytester.makepyfile(test_suite=MARKED_TEST)
    other = GOOD.replace('reason = "OPS-9"', 'reason = "OPS-9"\nchecks = ["connection-upgrade"]')
    result = _run(pytester, other, "--upgrade-as-of=2026-12-01")
    result.assert_outcomes(failed=1)  # status-426 fails, and only another check is waived
    junit = pytester.path / "junit.xml"
    result = _run(pytester, GOOD, "--upgrade-as-of=2026-12-01", "-rx", f"--junitxml={junit}")
    result.assert_outcomes(xfailed=1)
    assert '<property name="upgrade h2 GET /v2/orders verdict" value="waived"' in junit.read_text()
    result.stdout.fnmatch_lines(
        ["XFAIL test_suite.py::test_orders - waived until 2027-01-31: OPS-9 (waivers.toml:1)"]
    )
    expired = _run(pytester, GOOD, "--upgrade-as-of=2027-02-01")
    expired.assert_outcomes(failed=1)
    expired.stdout.fnmatch_lines(["*the failure stands: waiver expired on 2027-01-31: OPS-9*"])


def _baseline_document(path: pathlib.Path) -> None:
    """A report whose bundled server (any port) failed status-426 on /v2/orders."""
    failed = {
        "nodeid": "test_suite.py::test_orders",
        "requirement": {"protocol": "h2", "method": "GET", "path": "/v2/orders"},
        "target": "https://127.0.0.1:1 and http://127.0.0.1:2",
        "verdict": "failed",
        "checks": [{"id": "status-426", "outcome": "failed"}],
    }
    path.write_text(json.dumps({"as_of": "2026-10-01", "results": [failed]}))


def test_a_baseline_failure_is_known_and_fixed_once_it_passes(pytester: pytest.Pytester) -> None:
    baseline = pytester.path / "baseline.json"
    _baseline_document(baseline)
    pytester.makepyfile(test_suite=MARKED_TEST)
    pytester.makeconftest(conftest_source(legacy_status=200))
    known = pytester.runpytest("-p", "no:cacheprovider", f"--upgrade-baseline={baseline}", "-rx")
    known.assert_outcomes(xfailed=1)
    known.stdout.fnmatch_lines(
        ["XFAIL test_suite.py::test_orders - failing since the baseline of 2026-10-01 (status-426)"]
    )
    pytester.makeconftest(conftest_source())
    fixed = pytester.runpytest("-p", "no:cacheprovider", f"--upgrade-baseline={baseline}")
    fixed.assert_outcomes(passed=1)
    fixed.stdout.fnmatch_lines(
        [
            "*upgrade waivers and baseline*",
            "FIXED   https://127.0.0.1 h2 GET /v2/orders [[]status-426] (failing in the baseline"
            " of 2026-10-01)",
        ]
    )
    # Another failure than the baseline's is new: the test fails.
    pytester.makeconftest(conftest_source(connection="close"))
    new = pytester.runpytest("-p", "no:cacheprovider", f"--upgrade-baseline={baseline}")
    new.assert_outcomes(failed=1)


BODY_TEST = """
import pytest

@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_orders(upgrade):
    assert upgrade.client.get("/v2/orders").status_code == 201, "the body's own assertion"
"""


def test_a_waived_test_body_still_runs_and_its_failure_stands(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(conftest_source(legacy_status=200))
    pytester.makepyfile(test_suite=BODY_TEST)
    report = pytester.path / "report.json"
    result = _run(pytester, GOOD, "--upgrade-as-of=2026-12-01", f"--upgrade-report={report}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: the body's own assertion*"])
    # The compliance verdict is still the waiver's; the test's outcome is its body's.
    (entry,) = json.loads(report.read_text())["results"]
    assert (entry["verdict"], entry["outcome"]) == ("waived", "failed")
