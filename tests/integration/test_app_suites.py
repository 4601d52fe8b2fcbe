"""Marked tests in real application suites: every verdict the app's own (issue 31).

Each test writes a small suite around a FastAPI, Starlette, Flask, Quart or
Django app (tests/support/app_suites.py), runs it with the bundled server as a user
would, and asserts the verdict pytest-upgrade gives.

The suites run in subprocesses: in-process, a run after
test_websocket_subprotocols.py's in the same worker was served stale answers
(state that outlives a pytester run). Suites of one app, conftest and options
share one run (support.shared_runs), one file each, and each test reads its
own file's items and failures.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from support.app_suites import (
    CONFTEST,
    DJANGO_APP,
    FASTAPI_APP,
    FLASK_APP,
    QUART_APP,
    STARLETTE_APP,
    STARLETTE_LIFESPAN_APP,
    STARLETTE_WEBSOCKET_APP,
)
from support.apps import FIXTURE, SERVED_WITH_OPTIONS
from support.check_fields import expect_run
from support.shared_runs import failure_text, outcomes, run_once
from support.suites import marked
from support.suites import suite as module_of

RUN = ("-p", "no:cacheprovider")


def shared(
    factory: pytest.TempPathFactory, framework: str, app: str, tests: dict[str, str], *options: str
) -> pytest.RunResult:
    """One run of several suites around ``app`` (served through CONFTEST), one file each."""
    pytest.importorskip(framework)
    files = {"app.py": app, "conftest.py": CONFTEST, **tests}
    return run_once(factory.mktemp(framework), files, *options)


# -- the shared runs (the suites are below, with the tests that read them) ---------


@pytest.fixture(scope="module")
def fastapi_run(tmp_path_factory: pytest.TempPathFactory) -> pytest.RunResult:
    """The FastAPI suites without options: 1 (enforced by marker), 2, 4 and 11."""
    tests = {
        "test_enforced.py": ENFORCED_TESTS,
        "test_fixtures.py": FIXTURE_TESTS,
        "test_gzip.py": GZIP_TESTS,
        "test_pages.py": PARAMETRIZED_TESTS,
    }
    return shared(tmp_path_factory, "fastapi", FASTAPI_APP, tests)


@pytest.fixture(scope="module")
def enforcing_run(tmp_path_factory: pytest.TempPathFactory) -> pytest.RunResult:
    """The FastAPI suites run with ``--upgrade-enforce=h2``: 1 and 6."""
    tests = {"test_enforced.py": ENFORCED_TESTS, "test_big_post.py": BIG_POST_TESTS}
    return shared(tmp_path_factory, "fastapi", FASTAPI_APP, tests, "--upgrade-enforce=h2")


def refused_in(result: pytest.RunResult, module: str) -> list[str]:
    """The terminal's lines of the requests the enforcer refused to the tests of ``module``."""
    return [
        line
        for line in result.outlines
        if line.startswith("  ") and "; needs " in line and f"  {module}::" in line
    ]


def report_of(factory: pytest.TempPathFactory, run: str) -> pathlib.Path:
    """Where the shared run ``run`` (its fixture's name) writes its JSON report."""
    return factory.getbasetemp() / f"{run}.json"


@pytest.fixture(scope="module")
def ini_enforcing_run(tmp_path_factory: pytest.TempPathFactory) -> pytest.RunResult:
    """The FastAPI suites run with the ini value ``upgrade_enforce = h2``: 1 and 5."""
    tests = {"test_enforced.py": ENFORCED_TESTS, "test_login.py": SESSION_LOGIN_TESTS}
    report = report_of(tmp_path_factory, "ini_enforcing_run")
    options = ("-o", "upgrade_enforce=h2", f"--upgrade-report={report}")
    return shared(tmp_path_factory, "fastapi", FASTAPI_APP, tests, *options)


@pytest.fixture(scope="module")
def xdist_enforcing_run(tmp_path_factory: pytest.TempPathFactory) -> pytest.RunResult:
    """Suite 5 under pytest-xdist, with ``--upgrade-enforce=h2``."""
    report = report_of(tmp_path_factory, "xdist_enforcing_run")
    options = ("-n", "2", "--upgrade-enforce=h2", f"--upgrade-report={report}")
    tests = {"test_login.py": SESSION_LOGIN_TESTS}
    return shared(tmp_path_factory, "fastapi", FASTAPI_APP, tests, *options)


@pytest.fixture(scope="module")
def flask_run(tmp_path_factory: pytest.TempPathFactory) -> pytest.RunResult:
    """The Flask suites: 3 and 8."""
    tests = {
        "test_sloppy.py": module_of(marked("test_sloppy", "h2", "/v2/sloppy")),
        "test_report.py": module_of(marked("test_report", "h2", "/v2/report")),
    }
    return shared(tmp_path_factory, "flask", FLASK_APP, tests)


def run_suite(
    pytester: pytest.Pytester, framework: str, app: str, tests: str, conftest: str = CONFTEST
) -> pytest.RunResult:
    """A run, in a subprocess, of the suite ``tests`` around ``app`` (skipped when
    ``framework`` is not installed)."""
    pytest.importorskip(framework)
    pytester.makepyfile(app=app, test_app=tests)
    pytester.makeconftest(conftest)
    pytester.syspathinsert()
    return pytester.runpytest_subprocess(*RUN)


# -- 1. enforcement never answers the probes (FastAPI) ---------------------------

ENFORCED_TESTS = "\nimport httpx\n" + module_of(
    marked("test_plain_requires_h2", "h2", "/plain"),
    '@pytest.mark.upgrade_enforce("h2")\n'
    + marked("test_plain_marked_and_enforced", "h2", "/plain"),
    marked("test_live_updates", "websocket", "/ws"),
    """
@pytest.mark.upgrade_enforce("h2")
def test_functional_http11_client(upgrade_server):
    with httpx.Client(verify=upgrade_server.ssl_context(), trust_env=False) as client:
        assert client.get(upgrade_server.https_url + "/plain").status_code == 426
""",
)


@pytest.mark.parametrize(
    "run", ["fastapi_run", "enforcing_run", "ini_enforcing_run"], ids=["marker", "flag", "ini"]
)
def test_enforcement_never_answers_the_probes_of_a_marked_test(
    request: pytest.FixtureRequest, run: str
) -> None:
    result: pytest.RunResult = request.getfixturevalue(run)
    # /plain serves HTTP/1.1: the app fails its requirement, enforced or not.
    assert outcomes(result, "test_enforced.py") == {
        "test_plain_requires_h2": "failed",
        "test_plain_marked_and_enforced": "failed",
        "test_live_updates": "passed",
        "test_functional_http11_client": "passed",
    }
    enforced = failure_text(result, "test_plain_marked_and_enforced")
    assert (
        "judged: the app's own answers (the bundled server enforces h2;"
        " the probes bypass enforcement)" in enforced
    )
    assert "the legacy request was answered with 200, not 426" in enforced
    # The WebSocket requirement is judged on the app's 426, not the enforcer's.
    assert "actual: Upgrade: HTTP/2.0" not in result.stdout.str()
    # Only the functional test's own HTTP/1.1 request was refused.
    result.stdout.fnmatch_lines(["*upgrade enforcement*", "enforcing *: * refused with 426"])
    assert refused_in(result, "test_enforced.py") == [
        "  GET /plain (HTTP/1.1 over https; needs HTTP/2 over TLS)"
        "  test_enforced.py::test_functional_http11_client"
    ]


def test_the_compliance_section_comes_before_the_enforcement_section(
    enforcing_run: pytest.RunResult,
) -> None:
    # Both collectors are registered in pytest_configure, glue.enforcement's
    # first: pluggy calls the later registered first, so its section comes last.
    titles = [line.strip("= ") for line in enforcing_run.outlines if line.startswith("=")]
    assert titles.index("upgrade compliance") < titles.index("upgrade enforcement"), titles


# -- 2. probes run after the test's other fixtures (FastAPI) ---------------------

FIXTURE_TESTS = """
import pytest
from app import app


@pytest.fixture
def db():
    app.state.orders = [{"id": 1}]
    yield
    app.state.orders = None


@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_with_db(db, upgrade):
    assert upgrade.upgraded.response.status == 200


@pytest.mark.usefixtures("db")
@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_usefixtures_db():
    pass


# In the test's fixture order: upgrade comes before db, so its probes do too.
@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_upgrade_before_db(upgrade, db):
    pass
"""


def test_probes_run_after_the_fixtures_that_prepare_the_app(
    fastapi_run: pytest.RunResult,
) -> None:
    assert outcomes(fastapi_run, "test_fixtures.py") == {
        "test_with_db": "passed",
        "test_usefixtures_db": "passed",
        "test_upgrade_before_db": "failed",
    }
    # The app's 500 is the probe's answer; its traceback is logged by the server
    # after the answer is sent, so it is not always collected before the report
    # (a race left for the next session: see the closing note).
    output = failure_text(fastapi_run, "test_upgrade_before_db")
    assert "RuntimeError: orders table does not exist" in output or (
        "answered the upgraded request with HTTP/2 500" in output
    ), output


# -- 3. h2-no-connection-headers judges the app, not hypercorn -------------------

STARLETTE_H2_TESTS = module_of(
    marked("test_sloppy", "h2", "/sloppy"), marked("test_clean", "h2", "/clean")
)


def test_connection_fields_on_http2_fail_although_hypercorn_strips_them(
    pytester: pytest.Pytester,
) -> None:
    connection_fields = [
        "*h2-no-connection-headers*an HTTP/2 response carries connection-specific fields"
        " (as the app sent it)*",
        "*actual:*upgrade: HTTP/2.0 (upgraded); connection: upgrade (upgraded);"
        " keep-alive: timeout=5 (upgraded)*",
    ]
    result = run_suite(pytester, "starlette", STARLETTE_APP, STARLETTE_H2_TESTS)
    expect_run(result, connection_fields, passed=1, failed=1)


def test_connection_fields_from_a_wsgi_app_are_judged_too(flask_run: pytest.RunResult) -> None:
    assert outcomes(flask_run, "test_sloppy.py") == {"test_sloppy": "failed"}
    assert "connection: keep-alive (upgraded)" in failure_text(flask_run, "test_sloppy")


# -- 4. content codings are removed before a body is judged ---------------------

GZIP_TESTS = """
import pytest


@pytest.mark.requires_upgrade("h2", path="/v2/ping", headers={"Accept-Encoding": "gzip"})
def test_gzip(upgrade):
    assert upgrade.legacy.response.combined("content-encoding") == "gzip"
    assert {f.check_id: f.outcome.value for f in upgrade.findings}["problem-body"] == "passed"
"""


def test_a_gzip_coded_426_is_judged_as_its_problem(fastapi_run: pytest.RunResult) -> None:
    assert outcomes(fastapi_run, "test_gzip.py") == {"test_gzip": "passed"}


QUART_TESTS = """
import pytest


@pytest.mark.requires_upgrade("h2", path="/v2/items", headers={"X-Coding": "deflate"})
def test_deflate(upgrade):
    assert upgrade.legacy.response.combined("content-encoding") == "deflate"


@pytest.mark.requires_upgrade("h2", path="/v2/items", headers={"X-Coding": "bogus"})
def test_undecodable():
    pass
"""


def test_deflate_is_decoded_and_an_undecodable_body_names_its_coding(
    pytester: pytest.Pytester,
) -> None:
    undecodable = [
        "*problem-body*the problem+json body cannot be decoded*",
        "*actual:*the body cannot be decoded as Content-Encoding gzip*",
    ]
    expect_run(
        run_suite(pytester, "quart", QUART_APP, QUART_TESTS), undecodable, passed=1, failed=1
    )


# -- 5. refusals outside a test are recorded (FastAPI) ---------------------------

SESSION_LOGIN_TESTS = """
import httpx
import pytest


@pytest.fixture(scope="session")
def token(upgrade_server):
    with httpx.Client(verify=upgrade_server.ssl_context(), trust_env=False) as client:
        return client.post(upgrade_server.https_url + "/login").status_code


def test_orders(token, upgrade_server):
    with httpx.Client(verify=upgrade_server.ssl_context(), trust_env=False) as client:
        client.get(upgrade_server.https_url + "/plain")
"""


@pytest.mark.parametrize(
    "run", ["ini_enforcing_run", "xdist_enforcing_run"], ids=["in-process", "xdist"]
)
def test_refusals_in_session_fixtures_are_listed_outside_a_test(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, run: str
) -> None:
    result: pytest.RunResult = request.getfixturevalue(run)
    assert outcomes(result, "test_login.py") == {"test_orders": "passed"}
    # Suite 1's refusal (test_enforced.py) is listed between these two when it shares the run.
    result.stdout.fnmatch_lines(
        [
            "enforcing h2: * legacy request(s) refused with 426",
            "  POST /login (HTTP/1.1 over https; needs HTTP/2 over TLS)  (outside a test)",
            "  GET /plain (HTTP/1.1 over https; needs HTTP/2 over TLS)  test_login.py::test_orders",
        ]
    )
    refused = json.loads(report_of(tmp_path_factory, run).read_text())["refused"]
    assert sorted(
        (r["method"], r["path"], r["test"])
        for r in refused
        if not r["test"].startswith("test_enforced.py::")
    ) == [("GET", "/plain", "test_login.py::test_orders"), ("POST", "/login", "")]


# -- 7. a 4xx on both probes is the request rejected, not an upgrade success -----

# What the report must not say of a request the app rejected.
NOT_A_SUCCESS = "the upgraded request succeeded"

GUARDED = "\nfrom app import guarded as app\n"
TRUSTED_HOST_CONFTEST = GUARDED + FIXTURE
VIRTUAL_HOST_CONFTEST = (
    "\nimport pytest\n"
    + GUARDED
    + SERVED_WITH_OPTIONS.format(server_options='{"virtual_host": "api.example.com"}')
)

TRUSTED_TESTS = module_of(marked("test_clean", "h2", "/clean"))


def test_both_probes_rejected_by_trusted_host_is_diagnosed(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "starlette", STARLETTE_APP, TRUSTED_TESTS, TRUSTED_HOST_CONFTEST)
    rejected = [
        "*✘ status-426*answered with 400, not 426*",
        "*diagnosis: Both probes were rejected (400 to the legacy request, 400 to the"
        " upgraded one)*Invalid host header*TrustedHostMiddleware*virtual_host*",
        "*⚠ upgraded-succeeds*the request itself was rejected (400)*",
    ]
    expect_run(result, rejected, absent=(NOT_A_SUCCESS,), failed=1)


def test_the_virtual_host_lets_a_trusted_host_app_be_tested(pytester: pytest.Pytester) -> None:
    run_suite(
        pytester, "starlette", STARLETTE_APP, TRUSTED_TESTS, VIRTUAL_HOST_CONFTEST
    ).assert_outcomes(passed=1)


DJANGO_CONFTEST = """
import pytest


@pytest.fixture(scope="session")
def upgrade_app():
    from app import app

    return app
"""

DJANGO_TESTS = module_of(
    marked("test_create_order", "h2", "/v2/orders", method="POST"),
    marked("test_broken_report", "h2", "/v2/broken"),
)


def test_django_csrf_and_a_logged_exception_are_diagnosed(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "django", DJANGO_APP, DJANGO_TESTS, DJANGO_CONFTEST)
    rejected = [
        "*diagnosis: Both probes were rejected (403 to the legacy request, 403*CSRF*",
        "*⚠ upgraded-succeeds*the request itself was rejected (403)*",
    ]
    expect_run(result, rejected, absent=(NOT_A_SUCCESS,), failed=2)
    # 8. Django caught the view's exception and logged it: the report shows it.
    result.stdout.fnmatch_lines(
        [
            "*✘ upgraded-succeeds*answered with 500*",
            "*the traceback is shown below*",
            "*logged by django.request: Internal Server Error: /v2/broken*",
            "*ValueError: no such report*",
        ]
    )
    assert "the app raised no exception" not in result.stdout.str()


# -- 8. a framework's caught exception is shown, not denied (Flask) --------------


def test_flask_logged_exception_is_shown(flask_run: pytest.RunResult) -> None:
    assert outcomes(flask_run, "test_report.py") == {"test_report": "failed"}
    failure = failure_text(flask_run, "test_report")
    assert "the traceback is shown below" in failure
    assert "logged by app: Exception on /v2/report [GET]" in failure
    assert "KeyError: 'report_template'" in failure
    assert "the app raised no exception" not in failure


# -- 9. start-up errors: one line and the traceback once (Starlette) -------------

LIFESPAN_TESTS = module_of(marked("test_x", "h2", "/"))

SLOW_CONFTEST = """
import pytest
from app import slow_app as app
""" + SERVED_WITH_OPTIONS.format(server_options='{"startup_timeout": 0.5}')


def test_a_lifespan_error_is_one_line_and_its_traceback_once(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "starlette", STARLETTE_LIFESPAN_APP, LIFESPAN_TESTS)
    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "the bundled server did not start: the app failed to start:"
            " RuntimeError: cannot connect to the database at db:5432",
            "",
            "Traceback (most recent call last):",
        ]
    )
    # The one line and the traceback's last line in the error; the compliance
    # section names each requirement's cause once more (every item in every report).
    error, section = output.split(" upgrade compliance ", 1)
    assert error.count("RuntimeError: cannot connect to the database at db:5432") == 2
    assert section.count("RuntimeError: cannot connect to the database at db:5432") == 1
    assert "During handling of the above exception" not in output
    assert output.count("Traceback (most recent call last)") == 1


def test_a_slow_start_names_the_option_that_raises_the_timeout(
    pytester: pytest.Pytester,
) -> None:
    result = run_suite(pytester, "starlette", STARLETTE_LIFESPAN_APP, LIFESPAN_TESTS, SLOW_CONFTEST)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*the app did not complete lifespan startup within 0.5 s"
            '*upgrade_server_options={"startup_timeout": *',
        ]
    )


# -- 6. the enforcer and the policy server read the body before the 426 ---------

BIG_POST_TESTS = """
import httpx


def test_big_post_gets_the_426(upgrade_server):
    with httpx.Client(verify=upgrade_server.ssl_context(), trust_env=False) as client:
        for _ in range(3):
            response = client.post(upgrade_server.https_url + "/login", content=b"x" * 5_000_000)
            assert response.status_code == 426
    # Nothing broke on the server's side either (an unread body used to end in
    # an SSL error there, and often in the client's send).
    assert upgrade_server.drain_errors() == []
"""


def test_a_5_mb_post_gets_the_enforcers_426(enforcing_run: pytest.RunResult) -> None:
    assert outcomes(enforcing_run, "test_big_post.py") == {"test_big_post_gets_the_426": "passed"}
    big_post = (
        "  POST /login (HTTP/1.1 over https; needs HTTP/2 over TLS)"
        "  test_big_post.py::test_big_post_gets_the_426"
    )
    assert refused_in(enforcing_run, "test_big_post.py") == [big_post] * 3


def test_a_5_mb_post_gets_the_policy_servers_answers() -> None:
    import httpx

    from pytest_upgrade.server.policy import PolicyServer

    server = PolicyServer("h2")
    try:
        body = b"x" * 5_000_000
        with httpx.Client(verify=server.ssl_context(), trust_env=False) as client:
            assert client.post(server.https_url + "/orders", content=body).status_code == 426
        with httpx.Client(verify=server.ssl_context(), trust_env=False, http2=True) as client:
            response = client.post(server.https_url + "/orders", content=body)
            assert (response.http_version, response.status_code) == ("HTTP/2", 200)
    finally:
        server.stop()


# -- 10. diagnoses in line with the bundled server (Starlette) -------------------

WEBSOCKET_TESTS = """
import pytest


@pytest.mark.requires_upgrade("websocket", path="/ws")
def test_live(upgrade):
    findings = {f.check_id: f for f in upgrade.findings}
    over_h2 = findings["websocket-over-h2"]
    assert over_h2.outcome.value == "warned"
    assert "The bundled server (hypercorn) always advertises it" in over_h2.diagnosis
    assert "stop advertising" not in over_h2.diagnosis
    actionable = findings["problem-actionable"]
    assert actionable.outcome.value == "warned"
    assert actionable.expected == "detail or title naming websocket, or a link"
"""


def test_websocket_diagnoses_fit_the_bundled_server(pytester: pytest.Pytester) -> None:
    run_suite(pytester, "starlette", STARLETTE_WEBSOCKET_APP, WEBSOCKET_TESTS).assert_outcomes(
        passed=1, warnings=2
    )


def test_the_http2_explanation_says_rfc_8441_is_probed() -> None:
    page = pathlib.Path(__file__).parents[2] / "docs" / "explanation" / "426-over-http2.md"
    text = " ".join(page.read_text().split())
    assert "which pytest-upgrade does not probe" not in text
    assert "websocket-over-h2" in text


PARAMETRIZED_TESTS = """
import pytest
from app import app


@pytest.fixture(params=[[{"id": 1}], [{"id": 2}]])
def db(request):
    app.state.orders = request.param
    yield request.param
    app.state.orders = None


@pytest.mark.parametrize("page", [1, 2])
@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_pages(page, db):
    assert app.state.orders == db
"""


def test_parametrized_fixtures_are_set_up_before_the_probes(
    fastapi_run: pytest.RunResult,
) -> None:
    pages = outcomes(fastapi_run, "test_pages.py")
    assert len(pages) == 4
    assert set(pages.values()) == {"passed"}
