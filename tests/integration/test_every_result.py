"""Every collected requirement is in every report, whatever happened to it.

A probe that crashes, a fixture that raises, an app whose start fails,
pytest-timeout's ``Failed: Timeout``: the item errors in pytest's own counts,
and the terminal section, the JSON report, the HTML page, the Markdown
summary and the JUnit XML each list its requirements as ``error`` with the
one-line cause (issue 35; issue 37, item 2).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from support.apps import conftest_source
from support.suites import marked, suite


def first_probe_replaced(path: str, probe: str) -> str:
    """Conftest text: the first probe of every requirement on ``path`` is the function
    ``probe`` (its source, named ``probe``), as a probe's bug would make it."""
    return f"""
import dataclasses
import time

from pytest_upgrade.glue.ahead import ProbeAhead

_plan = ProbeAhead.plan

{probe}

def _replacing_plan(self, requirement, target):
    plan = _plan(self, requirement, target)
    if requirement.path != {path!r}:
        return plan
    return dataclasses.replace(plan, probes=(probe, *plan.probes[1:]))

ProbeAhead.plan = _replacing_plan
"""


# The probes of any requirement on /crash raise, as a probe's bug would.
CRASH = first_probe_replaced(
    "/crash",
    """
def probe():
    raise UnicodeEncodeError("ascii", "/\\xfcber", 1, 2, "injected into a probe")
""",
)

SUITE = """
import pytest

@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_orders():
    pass

@pytest.mark.requires_upgrade("h2", path="/crash")
@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_two_one_crashing():
    pass
"""


def _five_reports(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, str]]:
    paths = {
        "json": pytester.path / "out" / "report.json",
        "html": pytester.path / "out" / "report.html",
        "md": pytester.path / "out" / "summary.md",
        "junit": pytester.path / "out" / "junit.xml",
    }
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--upgrade-timeout=5",
        f"--upgrade-report={paths['json']}",
        f"--upgrade-html={paths['html']}",
        f"--upgrade-markdown={paths['md']}",
        f"--junitxml={paths['junit']}",
        *args,
    )
    return result, {key: path.read_text(encoding="utf-8") for key, path in paths.items()}


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_crashing_probe_is_an_error_in_all_five_reports(
    pytester: pytest.Pytester, xdist: list[str]
) -> None:
    pytester.makeconftest(conftest_source() + CRASH)
    pytester.makepyfile(test_suite=SUITE)
    result, reports = _five_reports(pytester, *xdist)
    result.assert_outcomes(passed=1, errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    cause = "UnicodeEncodeError: 'ascii' codec can't encode character"
    # The terminal: three requirements, the two of the erroring test are errors.
    result.stdout.fnmatch_lines(
        [
            f"ERROR   h2 GET /crash: {cause}*test_suite.py::test_two_one_crashing",
            f"ERROR   h2 GET /v2/orders: {cause}*test_suite.py::test_two_one_crashing",
            "3 requirements: 1 passed, 2 error (1 passed not listed; -v or -rA lists them)",
        ]
    )
    # The JSON report: every requirement, with its verdict and cause.
    document = json.loads(reports["json"])
    verdicts = [(r["nodeid"], r["requirement"]["path"], r["verdict"]) for r in document["results"]]
    assert verdicts == [
        ("test_suite.py::test_orders", "/v2/orders", "passed"),
        ("test_suite.py::test_two_one_crashing", "/crash", "error"),
        ("test_suite.py::test_two_one_crashing", "/v2/orders", "error"),
    ]
    errors = [r for r in document["results"] if r["verdict"] == "error"]
    assert all(r["error"].startswith(cause) and "\n" not in r["error"] for r in errors)
    assert all(r["outcome"] == "error" for r in errors)
    assert document["interrupted"] is False
    assert document["requirements"] == {"collected": 3, "selected": 3, "reported": 3}
    # The HTML page: its counts are the JSON's, the cause is shown.
    counts = dict(re.findall(r'data-count="(\w+)"><span class="n">(\d+)</span>', reports["html"]))
    assert counts == {"failed": "0", "error": "2", "warned": "0", "skipped": "0", "passed": "1"}
    assert "injected into a probe" in reports["html"]
    # The Markdown summary: never "none failing".
    assert reports["md"].startswith("## Upgrade compliance: ✘ 2 error of 3 requirement(s)\n")
    assert "h2 GET /crash" in reports["md"]
    assert f"error: {cause}" in reports["md"]
    # JUnit: the test errors, and each requirement's verdict property says error.
    suite = ET.fromstring(reports["junit"]).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("errors")) == ("2", "1")
    case = next(c for c in suite.iter("testcase") if c.get("name") == "test_two_one_crashing")
    assert case.find("error") is not None
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties["upgrade h2 GET /crash verdict"] == "error"
    assert properties["upgrade h2 GET /v2/orders verdict"] == "error"


LIFESPAN_FAILS = """
import pytest

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})
        return
    raise AssertionError("never served")

@pytest.fixture(scope="session")
def upgrade_app():
    return app
"""


def test_an_app_whose_startup_fails_errors_every_requirement(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(LIFESPAN_FAILS)
    pytester.makepyfile(test_suite=SUITE)
    result, reports = _five_reports(pytester, "--upgrade-require=h2 /v2/declared")
    result.assert_outcomes(errors=3)
    document = json.loads(reports["json"])
    assert [r["verdict"] for r in document["results"]] == ["error"] * 4
    assert all("the bundled server did not start" in r["error"] for r in document["results"])
    assert document["requirements"]["reported"] == 4
    result.stdout.fnmatch_lines(["4 requirements: 4 error"])
    assert reports["md"].startswith("## Upgrade compliance: ✘ 4 error of 4 requirement(s)\n")
    assert "No requirement was checked" not in reports["html"]


def test_upgrade_app_overridden_below_the_declared_requirements(
    pytester: pytest.Pytester,
) -> None:
    # Declared in the root configuration; the app only in tests/conftest.py,
    # which the declared items (at the configuration file) do not see.
    pytester.makeini(
        "[pytest]\nupgrade_requirements =\n    h2 /v2/orders\n    h2 /v2/reports\n"
        "asyncio_default_fixture_loop_scope = function\n"
    )
    tests = pytester.mkdir("tests")
    (tests / "conftest.py").write_text(conftest_source())
    (tests / "test_marked.py").write_text(
        "import pytest\n\n"
        '@pytest.mark.requires_upgrade("h2", path="/v2/orders")\n'
        "def test_orders():\n    pass\n"
    )
    result, reports = _five_reports(pytester)
    outcomes = result.parseoutcomes()
    document = json.loads(reports["json"])
    verdicts = sorted(r["verdict"] for r in document["results"])
    # However the app is resolved, every requirement is reported, as pytest counts it.
    assert len(verdicts) == 3
    assert verdicts.count("error") == outcomes.get("errors", outcomes.get("error", 0))
    assert verdicts.count("passed") == outcomes.get("passed", 0)
    result.stdout.fnmatch_lines(["3 requirements: *"])


# The first probe of /hang hangs (longer than pytest-timeout's --timeout).
HANGING = first_probe_replaced("/hang", "def probe():\n    time.sleep(30)\n")

TIMEOUT_SUITE = suite(
    marked("test_hangs", "h2", "/hang"), marked("test_orders", "h2", "/v2/orders")
)


def test_pytest_timeout_in_a_probe_is_an_error(pytester: pytest.Pytester) -> None:
    pytest.importorskip("pytest_timeout")
    pytester.makeconftest(conftest_source() + HANGING)
    pytester.makepyfile(test_suite=TIMEOUT_SUITE)
    result, reports = _five_reports(pytester, "--timeout=2", "--timeout-method=signal")
    result.assert_outcomes(passed=1, errors=1)
    document = json.loads(reports["json"])
    verdicts = [(r["requirement"]["path"], r["verdict"]) for r in document["results"]]
    assert verdicts == [("/hang", "error"), ("/v2/orders", "passed")]
    assert document["results"][0]["error"].startswith("Timeout")
    result.stdout.fnmatch_lines(["2 requirements: 1 passed, 1 error*"])
    assert reports["md"].startswith("## Upgrade compliance: ✘ 1 error of 2 requirement(s)\n")


def test_a_skipped_marked_test_is_reported_skipped(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(conftest_source())
    pytester.makepyfile(
        test_suite="""
import pytest

@pytest.mark.skip(reason="not on this platform")
@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_orders():
    pass
"""
    )
    result, reports = _five_reports(pytester)
    result.assert_outcomes(skipped=1)
    document = json.loads(reports["json"])
    assert [(r["verdict"], r["error"]) for r in document["results"]] == [
        ("skipped", "not on this platform")
    ]
    result.stdout.fnmatch_lines(["1 requirement: 1 skipped"])
