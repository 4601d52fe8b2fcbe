"""Credentials for the probes: a service that authenticates before its 426 (issue: auth in front).

The app answers 401 to every request without ``Authorization: Bearer s3cret-tok3n``,
as an auth middleware ordered before the protocol check does. The header is
given per requirement, per deployment and for the whole run, with the token
taken from the environment; every report and the terminal are then searched
for the token.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from support.apps import app_source, conftest_source

TOKEN = "s3cret-tok3n"
AUTH = f"Bearer {TOKEN}"
HEADER = "Authorization: Bearer ${API_TOKEN}"


@pytest.fixture(autouse=True)
def api_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_TOKEN", TOKEN)


def outputs(pytester: pytest.Pytester) -> list[str]:
    """The report options of a run, written under pytester.path/out."""
    out = pytester.path / "out"
    return [
        f"--upgrade-report={out / 'report.json'}",
        f"--upgrade-html={out / 'report.html'}",
        f"--upgrade-markdown={out / 'summary.md'}",
        f"--junitxml={out / 'junit.xml'}",
        f"--html={out / 'pytest-html.html'}",  # pytest-html's rows carry the failure report
        "--self-contained-html",
    ]


def assert_secret_nowhere(pytester: pytest.Pytester, result: pytest.RunResult) -> None:
    written = sorted((pytester.path / "out").iterdir())
    names = {"report.json", "report.html", "summary.md", "junit.xml", "pytest-html.html"}
    assert {p.name for p in written} == names
    for path in written:
        assert TOKEN not in path.read_text(encoding="utf-8"), path.name
    assert TOKEN not in result.stdout.str() + result.stderr.str()


def entry(pytester: pytest.Pytester, protocol: str = "h2") -> dict[str, Any]:
    document = json.loads((pytester.path / "out" / "report.json").read_text())
    (found,) = [r for r in document["results"] if r["requirement"]["protocol"] == protocol]
    return found


def test_without_credentials_the_auth_answer_is_judged(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(conftest_source(require_authorization=AUTH))
    result = pytester.runpytest("-p", "no:cacheprovider", "--upgrade-require=h2 /v2/orders")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*✘ status-426*answered with 401*"])


def test_a_declared_requirement_carries_its_header(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(conftest_source(require_authorization=AUTH))
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "-rA",
        f"--upgrade-require=h2 /v2/orders header='{HEADER}'",
        # a requirement that fails, so that its report and reproduce commands are shown
        f"--upgrade-require=HTTP/1.1 /v2/orders header='{HEADER}'",
        *outputs(pytester),
    )
    result.assert_outcomes(passed=1, failed=1)
    checks = {c["id"]: c["outcome"] for c in entry(pytester)["checks"]}
    assert checks["status-426"] == "passed"
    # The report names the variable; the reproduce command lets the shell expand it.
    result.stdout.fnmatch_lines(
        [
            "*headers={'Authorization': 'Bearer ${API_TOKEN}'}*",
            '*curl -sv --http1.0 * -H "Authorization: Bearer ${API_TOKEN}" -o /dev/null http*',
        ]
    )
    assert_secret_nowhere(pytester, result)


def test_a_deployment_carries_its_header(pytester: pytest.Pytester, live_server) -> None:  # type: ignore[no-untyped-def]
    server = live_server(app_source(require_authorization=AUTH))
    targets = pytester.path / "targets.txt"
    targets.write_text(
        f'{server.https_url} {server.http_url} ca={server.cafile} name=api header="{HEADER}"\n'
    )
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        f"--upgrade-targets-file={targets}",
        "--upgrade-require=h2 /v2/orders",
        *outputs(pytester),
    )
    result.assert_outcomes(passed=1)
    found = entry(pytester)
    assert found["verdict"] == "passed"
    assert_secret_nowhere(pytester, result)


def test_the_run_carries_upgrade_header(pytester: pytest.Pytester, live_server) -> None:  # type: ignore[no-untyped-def]
    server = live_server(app_source(require_authorization=AUTH, legacy_status=200))
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        f"--upgrade-target={server.https_url}",
        f"--upgrade-ca={server.cafile}",
        f"--upgrade-header={HEADER}",
        "--upgrade-require=h2 /v2/orders",
        *outputs(pytester),
    )
    # Authenticated, the legacy request now reaches the route, which still serves it.
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*✘ status-426*answered with 200*"])
    exchanges = entry(pytester)["exchanges"]
    assert exchanges  # the probes ran, with the header
    assert_secret_nowhere(pytester, result)


def test_a_literal_credential_is_redacted(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(conftest_source(require_authorization=AUTH, legacy_status=200))
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.requires_upgrade("h2", path="/v2/orders", headers={{"Authorization": {AUTH!r},
                                      "Cookie": "session={TOKEN}"}})
        def test_orders():
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", *outputs(pytester))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*headers={'Authorization': 'Bearer ***', 'Cookie': '***'}*",
            "*-H 'Authorization: Bearer ***'*",
        ]
    )
    assert_secret_nowhere(pytester, result)


def test_an_unset_variable_in_a_marker_is_named(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(conftest_source())
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.requires_upgrade("h2", headers={"X-Api-Key": "${UNSET_KEY}"})
        def test_orders():
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*header X-Api-Key: ${UNSET_KEY} is not set*"])
