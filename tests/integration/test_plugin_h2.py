"""The plugin as users run it: pytester suites against real hypercorn servers.

Each case writes a conftest serving an app (tests/support/apps.py: correct unless told
otherwise) and a marked test, runs pytest on it, and asserts the outcome and
the check ids in the report.
"""

from __future__ import annotations

import json

import pytest

from support.apps import STARTUP_FAILS, app_source, conftest_source

MARKED_TEST = """
import pytest

@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_orders():
    pass
"""


def run_suite(pytester: pytest.Pytester, *args: str, test: str = MARKED_TEST, **behaviour: object):
    pytester.makeconftest(conftest_source(**behaviour))
    pytester.makepyfile(test_suite=test)
    return pytester.runpytest("-p", "no:cacheprovider", "--upgrade-timeout=5", *args)


def test_correct_app_passes(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "-rA")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*upgrade compliance*", "PASSED  h2 GET /v2/orders  test_suite.py::test_orders"]
    )


@pytest.mark.parametrize(
    ("behaviour", "check_id"),
    [
        pytest.param({"upgrade": None}, "upgrade-present", id="no-upgrade-header"),
        pytest.param({"connection": None}, "connection-upgrade", id="no-connection-upgrade"),
        pytest.param({"legacy_status": 400}, "status-426", id="400-instead-of-426"),
        pytest.param({"legacy_status": 200}, "status-426", id="http11-still-served"),
        pytest.param(
            {"body": {"title": "Upgrade Required", "status": 400, "detail": "Use HTTP/2."}},
            "problem-body",
            id="problem-status-400",
        ),
        pytest.param({"upgraded_status": 426}, "upgraded-succeeds", id="http2-also-426"),
        pytest.param({"upgrade": "h2c"}, "upgrade-names-required", id="h2c-over-tls"),
        pytest.param({"upgrade": "HTTP/2.0 HTTP/3"}, "upgrade-syntax", id="malformed-upgrade"),
    ],
)
def test_each_must_violation_fails_with_its_check_id(
    pytester: pytest.Pytester, behaviour: dict[str, object], check_id: str
) -> None:
    result = run_suite(pytester, **behaviour)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*✘ {check_id} [[]must*", "*reproduce:*", "*curl -sv --http1.1*"])
    result.stdout.fnmatch_lines(
        [f"FAILED  h2 GET /v2/orders [[]*{check_id}*]  test_suite.py::test_orders"]
    )


def test_status_diagnosis_names_the_cause(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, legacy_status=200)
    result.stdout.fnmatch_lines(
        ["*expected:  426 Upgrade Required*", "*actual:    HTTP/1.1 200*", "*still served*"]
    )


@pytest.mark.parametrize(
    ("behaviour", "check_id"),
    [
        pytest.param(
            {"content_type": "text/plain", "body": "Use HTTP/2."},
            "problem-media-type",
            id="text-plain-body",
        ),
        pytest.param({"cache_control": "max-age=3600"}, "not-cacheable", id="cacheable-426"),
        pytest.param({"upgrade": "h2"}, "upgrade-names-required", id="alpn-token-in-upgrade"),
        pytest.param(
            {"body": {"status": 426, "detail": "Go away."}},
            "problem-actionable",
            id="not-actionable",
        ),
    ],
)
def test_should_violation_warns_and_strict_fails(
    pytester: pytest.Pytester, behaviour: dict[str, object], check_id: str
) -> None:
    result = run_suite(pytester, **behaviour)
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines([f"*PytestUpgradeWarning*{check_id}*"])
    result.stdout.fnmatch_lines(
        ["WARNED  h2 GET /v2/orders (warnings: *)  test_suite.py::test_orders"]
    )

    strict = pytester.runpytest("-p", "no:cacheprovider", "--upgrade-strict")
    strict.assert_outcomes(failed=1)
    strict.stdout.fnmatch_lines([f"*⚠ {check_id} [[]should*"])


RAISED = "*RuntimeError: the app broke on purpose*"
SERVING = "*the app raised (or its framework logged) while serving the probes:*"


@pytest.mark.parametrize(
    ("raise_on", "lines"),
    [
        pytest.param("upgraded", ["*✘ upgraded-succeeds*", SERVING, RAISED], id="upgraded"),
        pytest.param("legacy", ["*✘ status-426*500*", RAISED], id="legacy"),
    ],
)
def test_app_that_raises_shows_its_traceback(
    pytester: pytest.Pytester, raise_on: str, lines: list[str]
) -> None:
    result = run_suite(pytester, raise_on=raise_on)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(lines)


def test_upgrade_fixture_gives_exchanges_and_an_http2_client(pytester: pytest.Pytester) -> None:
    test = """
import pytest

@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_orders(upgrade):
    assert upgrade.requirement.protocol == "h2"
    assert upgrade.legacy.response.status == 426
    assert upgrade.legacy.transport.alpn == "http/1.1"
    assert upgrade.upgraded.response.http_version == "2"
    assert {f.check_id for f in upgrade.findings} >= {"status-426", "upgraded-succeeds"}
    response = upgrade.client.get("/v2/orders")
    assert response.http_version == "HTTP/2"
    assert response.json() == {"ok": True}
"""
    result = run_suite(pytester, test=test)
    result.assert_outcomes(passed=1)


def test_json_report(pytester: pytest.Pytester) -> None:
    report = pytester.path / "out" / "report.json"
    result = run_suite(pytester, f"--upgrade-report={report}", legacy_status=200)
    result.assert_outcomes(failed=1)
    document = json.loads(report.read_text())
    assert document["version"] == 2
    assert document["interrupted"] is False
    assert document["requirements"]["reported"] == len(document["results"])
    (entry,) = document["results"]
    assert entry["nodeid"] == "test_suite.py::test_orders"
    assert entry["outcome"] == "failed"
    assert entry["requirement"] == {
        "protocol": "h2",
        "path": "/v2/orders",
        "method": "GET",
        "headers": {},
        "after": None,
    }
    assert entry["target"].startswith("https://127.0.0.1:")
    checks = {check["id"]: check for check in entry["checks"]}
    assert checks["status-426"]["outcome"] == "failed"
    assert checks["status-426"]["severity"] == "must"
    assert checks["status-426"]["rfc"] == "RFC 9110 §15.5.22"
    assert checks["upgrade-present"]["outcome"] == "skipped"
    assert checks["upgraded-succeeds"]["outcome"] == "passed"
    assert {c["outcome"] for c in entry["checks"]} <= {"passed", "failed", "warned", "skipped"}


def test_check_selection(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "--upgrade-skip-checks=status-426", legacy_status=200)
    # Without status-426 nothing fails; the 426-header checks are skipped, not passed.
    result.assert_outcomes(passed=1)
    only = pytester.runpytest(
        "-p", "no:cacheprovider", "--upgrade-checks=upgraded-succeeds,upgraded-protocol"
    )
    only.assert_outcomes(passed=1)


def test_bad_marker_is_a_usage_error(pytester: pytest.Pytester) -> None:
    # Which arguments are bad, and their messages: tests/unit/test_requirements.py.
    test = """
import pytest

@pytest.mark.requires_upgrade("h4")
def test_x():
    pass
"""
    result = run_suite(pytester, "--strict-markers", test=test)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*invalid @pytest.mark.requires_upgrade*",
            "*test_x: unknown protocol 'h4'; accepted: 'h2', 'HTTP/2' (alias of 'h2')*",
        ]
    )


def test_marker_is_registered_for_strict_markers(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "--strict-markers")
    result.assert_outcomes(passed=1)
    markers = pytester.runpytest("--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.requires_upgrade(protocol, path='/'*"])


def test_no_app_is_an_error_with_its_cause(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=MARKED_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*pytest-upgrade has no app to serve: override the upgrade_app fixture*"]
    )


def test_app_startup_failure_is_an_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(STARTUP_FAILS)
    pytester.makepyfile(test_suite=MARKED_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*the bundled server did not start*database unreachable*"])


def test_upgrade_app_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(my_service=app_source(), test_suite=MARKED_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider", "--upgrade-app=my_service:app")
    result.assert_outcomes(passed=1)


def test_unmarked_tests_are_untouched(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "upgrade compliance" not in result.stdout.str()


def run_live(pytester: pytest.Pytester, server, *args: str) -> pytest.RunResult:
    """The marked test against a live server (no conftest: no bundled app)."""
    pytester.makepyfile(test_suite=MARKED_TEST)
    return pytester.runpytest(
        "-p", "no:cacheprovider", f"--upgrade-target={server.https_url}", *args
    )


def test_live_target(pytester: pytest.Pytester, live_server) -> None:
    server = live_server(app_source(legacy_status=200))
    result = run_live(pytester, server, f"--upgrade-ca={server.cafile}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*against {server.https_url}*", "*✘ status-426*"])

    correct = live_server(app_source())
    result = run_live(pytester, correct, f"--upgrade-ca={correct.cafile}")
    result.assert_outcomes(passed=1)


def test_live_target_without_its_ca_is_an_error(pytester: pytest.Pytester, live_server) -> None:
    server = live_server(app_source())
    result = run_live(pytester, server)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*certificate verify failed*--upgrade-ca=PEM*"])


def test_unreachable_target_is_a_one_line_error(pytester: pytest.Pytester) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        pytester.makepyfile(test_suite=MARKED_TEST)
        result = pytester.runpytest(
            "-p", "no:cacheprovider", f"--upgrade-target=https://127.0.0.1:{port}"
        )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [f"*cannot evaluate h2 GET /v2/orders: *connect to 127.0.0.1:{port}: Connection refused*"]
    )
    assert "INTERNALERROR" not in result.stdout.str()


def test_xdist_runs_and_merges_the_report(pytester: pytest.Pytester) -> None:
    """The one xdist smoke test of the marker: the workers' results merged into the
    controller's report and summary, and a bad marker an error of its test, not a crash."""
    tests = "\n".join(
        f"""
@pytest.mark.requires_upgrade("h2", path="/v2/orders/{n}")
def test_orders_{n}():
    pass
"""
        for n in range(4)
    )
    bad = """
@pytest.mark.requires_upgrade("h4")
def test_bad():
    pass
"""
    report = pytester.path / "report.json"
    pytester.makeconftest(conftest_source())
    pytester.makepyfile(
        test_suite="import pytest\n" + tests, test_bad_marker="import pytest\n" + bad
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", f"--upgrade-report={report}"
    )
    result.assert_outcomes(passed=4, errors=1)
    result.stdout.fnmatch_lines(["*upgrade compliance*"])
    result.stdout.fnmatch_lines(["*invalid @pytest.mark.requires_upgrade: unknown protocol 'h4'*"])
    assert "INTERNALERROR" not in result.stdout.str()
    document = json.loads(report.read_text())
    assert sorted(r["nodeid"] for r in document["results"]) == [
        f"test_suite.py::test_orders_{n}" for n in range(4)
    ]
    assert all(r["outcome"] == "passed" for r in document["results"])


@pytest.mark.parametrize(
    ("behaviour", "cause"),
    [
        pytest.param("silent", "*no answer within 1 s*", id="accepts-and-never-answers"),
        pytest.param("ssh_banner", "*did not answer with TLS*", id="speaks-ssh"),
    ],
)
def test_broken_target_is_a_bounded_one_line_error(
    pytester: pytest.Pytester, behaviour: str, cause: str
) -> None:
    from support import hostile

    timeout = 1.0
    pytester.makepyfile(test_suite=MARKED_TEST)
    with hostile.hostile_server(getattr(hostile, behaviour)) as port:
        result = pytester.runpytest(
            "-p",
            "no:cacheprovider",
            f"--upgrade-target=https://127.0.0.1:{port}",
            f"--upgrade-timeout={timeout:g}",
        )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*cannot evaluate h2 GET /v2/orders: {cause}"])
    assert "INTERNALERROR" not in result.stdout.str()
    # The probes run concurrently: the item waits one timeout, not one per probe
    # (four of them one after another: four timeouts); the rest is slack for a
    # loaded machine (2.04 s seen in CI, 1.1 s idle).
    reports = result.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
    assert sum(report.duration for report in reports) < 3 * timeout


def test_bundled_server_keeps_fresh_connections_open_as_long_as_a_probe_waits(
    pytester: pytest.Pytester,
) -> None:
    """A probe's connection is never closed as idle before the probe's own timeout."""
    pytester.makeconftest(conftest_source())
    pytester.makepyfile(
        test_keep_alive="""
def test_default(upgrade_server, pytestconfig):
    timeout = pytestconfig.getoption("upgrade_timeout")
    assert upgrade_server.keep_alive_timeout == max(5.0, float(timeout or 5.0))
"""
    )
    for timeout in ("2", "9"):
        result = pytester.runpytest("-p", "no:cacheprovider", f"--upgrade-timeout={timeout}")
        result.assert_outcomes(passed=1)
