"""The compliance gate as CI runs it: deadlines, --upgrade-as-of, declared requirements, JUnit."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from support.apps import app_source, conftest_source

DEPRECATED = ("Deprecation", "@1764547200")  # 2025-12-01
SUNSET = ("Sunset", "Mon, 01 Mar 2027 00:00:00 GMT")
GATED_TEST = """
import pytest

@pytest.mark.requires_upgrade("h2", path="/v2/orders", after="2027-03-01")
def test_orders():
    pass
"""
BEFORE = "--upgrade-as-of=2026-11-22"
AFTER = "--upgrade-as-of=2027-03-01"


def run_gate(pytester: pytest.Pytester, *args: str, **behaviour: object) -> pytest.RunResult:
    pytester.makeconftest(conftest_source(**behaviour))
    pytester.makepyfile(test_suite=GATED_TEST)
    # -rA: the upgrade compliance section lists passing requirements too.
    return pytester.runpytest("-p", "no:cacheprovider", "-rA", *args)


def test_before_the_deadline_an_announcing_server_passes(pytester: pytest.Pytester) -> None:
    # Announced on the legacy answers only (upgraded-not-deprecated).
    result = run_gate(pytester, BEFORE, legacy_status=200, legacy_headers=[DEPRECATED, SUNSET])
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "PASSED  h2 GET /v2/orders after=2027-03-01"
            " (deadline 2027-03-01, as of 2026-11-22: 99 day(s) left)  test_suite.py::test_orders"
        ]
    )


def test_before_the_deadline_a_silent_server_fails_on_sunset(pytester: pytest.Pytester) -> None:
    result = run_gate(pytester, BEFORE, legacy_status=200)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*○ status-426 [[]must*not enforced before the deadline 2027-03-01*",
            "*⚠ deprecation-header [[]should*does not announce its deprecation*",
            "*✘ sunset-header [[]must*does not announce when it ends*",
        ]
    )


@pytest.mark.parametrize(
    ("headers", "line"),
    [
        pytest.param(
            [("Deprecation", "true"), SUNSET],
            "*PytestUpgradeWarning*deprecation-header*'true' is the value of an old draft*",
            id="deprecation-true",
        ),
        pytest.param(
            [DEPRECATED, ("Sunset", "2027-03-01")],
            "*✘ sunset-header*Sunset is not an HTTP-date*",
            id="sunset-not-http-date",
        ),
        pytest.param(
            [DEPRECATED, ("Sunset", "Thu, 01 Apr 2027 00:00:00 GMT")],
            "*✘ sunset-header*later than the declared deadline 2027-03-01*",
            id="sunset-after-deadline",
        ),
        pytest.param(
            [("Deprecation", "@1803945600"), SUNSET],
            "*✘ sunset-header*earlier than Deprecation*",
            id="sunset-before-deprecation",
        ),
    ],
)
def test_each_malformed_announcement_has_its_own_finding(
    pytester: pytest.Pytester, headers: list[tuple[str, str]], line: str
) -> None:
    result = run_gate(pytester, BEFORE, legacy_status=200, extra_headers=headers)
    result.stdout.fnmatch_lines([line])


def test_after_the_deadline_an_enforcing_server_passes(pytester: pytest.Pytester) -> None:
    result = run_gate(pytester, AFTER)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*PASSED  h2 GET /v2/orders after=2027-03-01 (*enforced from today)*"]
    )


def test_after_the_deadline_a_server_still_serving_fails(pytester: pytest.Pytester) -> None:
    result = run_gate(pytester, AFTER, legacy_status=200, extra_headers=[DEPRECATED, SUNSET])
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*✘ status-426*answered with 200, not 426*"])


def test_as_of_flips_the_verdict_of_the_same_server(pytester: pytest.Pytester) -> None:
    before = run_gate(pytester, BEFORE, legacy_status=200, extra_headers=[DEPRECATED, SUNSET])
    before.assert_outcomes(passed=1)
    after = pytester.runpytest("-p", "no:cacheprovider", AFTER)
    after.assert_outcomes(failed=1)


def test_early_enforcement_is_an_info_note(pytester: pytest.Pytester) -> None:
    result = run_gate(pytester, BEFORE)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*PASSED*"])
    report = pytester.path / "report.json"
    pytester.runpytest("-p", "no:cacheprovider", BEFORE, f"--upgrade-report={report}")
    (entry,) = json.loads(report.read_text())["results"]
    assert entry["as_of"] == "2026-11-22"
    assert entry["days_left"] == 99
    assert entry["requirement"]["after"] == "2027-03-01"
    checks = {c["id"]: c for c in entry["checks"]}
    assert checks["legacy-still-served"]["severity"] == "info"
    assert checks["legacy-still-served"]["outcome"] == "noted"
    assert "already enforced before the deadline" in checks["legacy-still-served"]["message"]


# -- declared requirements -----------------------------------------------------


def test_declared_requirements_alone_are_a_complete_gate(
    pytester: pytest.Pytester, live_server
) -> None:
    server = live_server(app_source())
    pytester.makeini(
        """
[pytest]
asyncio_default_fixture_loop_scope = function
addopts = -p no:hypothesispytest
upgrade_requirements =
    h2 /v2/orders
    TLS/1.2 /v2/orders
    HTTP/1.1 /v2/orders
"""
    )
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest(
        "-p", "no:cacheprovider",
        f"--upgrade-target={server.https_url}", f"--upgrade-ca={server.cafile}",
        f"--junitxml={junit}",
    )  # fmt: skip
    # No test file anywhere: three items come from the ini option alone. The
    # app refuses every HTTP/1.x request with a 426 asking for HTTP/2, so the
    # HTTP/1.1 requirement fails (its upgraded HTTP/1.1 request gets 426 too);
    # TLS/1.2 passes on TLS (the target has no cleartext URL to refuse).
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["collected 3 items"])
    cases = {case.get("name"): case for case in ET.parse(junit).getroot().iter("testcase")}
    assert set(cases) == {
        "test_requirement[h2 GET /v2/orders]",
        "test_requirement[TLS/1.2 GET /v2/orders]",
        "test_requirement[HTTP/1.1 GET /v2/orders]",
    }
    properties = {
        p.get("name"): p.get("value")
        for p in cases["test_requirement[h2 GET /v2/orders]"].iter("property")
    }
    assert properties["upgrade h2 GET /v2/orders status-426"] == "passed"
    assert properties["upgrade h2 GET /v2/orders verdict"] == "passed"
    failed = [case for case in cases.values() if case.find("failure") is not None]
    (failing,) = failed
    message = failing.find("failure")
    assert message is not None
    assert "checks:" in (message.text or "")  # the same report text as the terminal


def test_declared_requirements_select_with_k(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(conftest_source())
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--upgrade-require=h2 /v2/orders",
        "--upgrade-require=h2 /v2/other", "-k", "other",
    )  # fmt: skip
    result.assert_outcomes(passed=1, deselected=1)


CONFTEST_HOOKS = """

def pytest_runtest_setup(item):
    item.config.stash.setdefault(SEEN, []).append(("setup", item.nodeid))


def pytest_runtest_makereport(item, call):
    if call.when == "call":
        item.config.stash.setdefault(SEEN, []).append(("report", item.nodeid))


def pytest_unconfigure(config):
    seen = config.stash.get(SEEN, [])
    (config.rootpath / "seen.txt").write_text("\\n".join(f"{w} {n}" for w, n in seen))


SEEN = __import__("pytest").StashKey()
"""


@pytest.mark.parametrize("where", ["ini", "command line"])
def test_conftest_hooks_apply_to_declared_requirements(
    pytester: pytest.Pytester, where: str
) -> None:
    # pytest scopes conftest hooks by the item's path: declared requirements
    # are anchored at the configuration file (or the rootdir), not at the
    # plugin's own file in site-packages.
    pytester.makeconftest(conftest_source() + CONFTEST_HOOKS)
    args = ["-p", "no:cacheprovider"]
    if where == "ini":
        pytester.makeini(
            """
[pytest]
asyncio_default_fixture_loop_scope = function
upgrade_requirements =
    h2 /v2/orders
"""
        )
    else:
        args.append("--upgrade-require=h2 /v2/orders")
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=1)
    nodeid = "upgrade-requirements::test_requirement[h2 GET /v2/orders]"
    seen = (pytester.path / "seen.txt").read_text().splitlines()
    assert seen == [f"setup {nodeid}", f"report {nodeid}"]


def test_a_target_without_requirements_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("-p", "no:cacheprovider", "--upgrade-target=https://127.0.0.1:9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--upgrade-target names a target but no requirement was found*"])


def test_a_target_without_requirements_under_xdist_is_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", "--upgrade-target=https://127.0.0.1:9"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["*--upgrade-target names a target but no requirement was found*"])
