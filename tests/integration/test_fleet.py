"""Fleets: several live deployments in one run, an item per (deployment, requirement)."""

from __future__ import annotations

import json
import pathlib
import socket
from collections.abc import Iterator

import pytest

from apps import app_source

REQUIREMENTS = ("--upgrade-require=h2 /v2/orders", "--upgrade-require=h2 /v2/users")


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def fleet(live_server, tmp_path: pathlib.Path, closed_port: int) -> pathlib.Path:
    """A targets file: a compliant deployment, a failing one and an unreachable one."""
    good = live_server(app_source())
    bad = live_server(app_source(legacy_status=200))
    path = tmp_path / "fleet" / "targets.txt"
    path.parent.mkdir()
    path.write_text(
        "# the fleet of this test\n"
        f"{good.https_url} {good.http_url} ca={good.cafile} name=good\n"
        "\n"
        f"{bad.https_url}  ca={bad.cafile}   # answers 200 where 426 is due\n"
        f"https://127.0.0.1:{closed_port}\n"
    )
    return path


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:cacheprovider", *REQUIREMENTS, *args)


def test_a_fleet_is_an_item_per_deployment_and_requirement(
    pytester: pytest.Pytester, fleet: pathlib.Path
) -> None:
    report = pytester.path / "out" / "report.json"
    result = _run(pytester, f"--upgrade-targets-file={fleet}", "-v", f"--upgrade-report={report}")
    result.assert_outcomes(passed=2, failed=2, errors=2)
    bad_port = int(fleet.read_text().splitlines()[3].split()[0].rsplit(":", 1)[1])
    result.stdout.fnmatch_lines(
        [
            "*test_requirement[[]good h2 GET /v2/orders] PASSED*",
            "*test_requirement[[]good h2 GET /v2/users] PASSED*",
            f"*test_requirement[[]127.0.0.1:{bad_port} h2 GET /v2/orders] FAILED*",
            f"*test_requirement[[]127.0.0.1:{bad_port} h2 GET /v2/users] FAILED*",
        ]
    )
    results = json.loads(report.read_text())["results"]
    by_node = {r["nodeid"]: r for r in results}
    assert len(by_node) == 6
    good = by_node["upgrade-requirements::test_requirement[good h2 GET /v2/orders]"]
    assert good["verdict"] == "passed"
    assert good["target"].startswith("https://127.0.0.1:")
    assert " and http://127.0.0.1:" in good["target"]
    bad = by_node[f"upgrade-requirements::test_requirement[127.0.0.1:{bad_port} h2 GET /v2/users]"]
    assert bad["verdict"] == "failed"
    assert bad["target"] == f"https://127.0.0.1:{bad_port}"
    errors = [r for r in results if r["verdict"] == "error"]
    assert len(errors) == 2
    assert all("Connection refused" in r["error"] for r in errors)


def test_k_selects_a_deployment(pytester: pytest.Pytester, fleet: pathlib.Path) -> None:
    result = _run(pytester, f"--upgrade-targets-file={fleet}", "-k", "good")
    result.assert_outcomes(passed=2, deselected=4)


def test_a_fleet_under_xdist(pytester: pytest.Pytester, fleet: pathlib.Path) -> None:
    report = pytester.path / "report.json"
    result = _run(
        pytester, f"--upgrade-targets-file={fleet}", "-n", "2", f"--upgrade-report={report}"
    )
    result.assert_outcomes(passed=2, failed=2, errors=2)
    verdicts = sorted(r["verdict"] for r in json.loads(report.read_text())["results"])
    assert verdicts == ["error", "error", "failed", "failed", "passed", "passed"]


MARKED = """
import pytest


@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_orders(upgrade):
    assert upgrade.client.get("/v2/orders").status_code == 200
    assert upgrade.target.label.startswith("https://127.0.0.1:")
"""


def test_marked_tests_run_against_each_deployment(
    pytester: pytest.Pytester, live_server, tmp_path: pathlib.Path
) -> None:
    good = live_server(app_source())
    bad = live_server(app_source(legacy_status=200))
    pytester.makepyfile(test_marked=MARKED)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-v",
        f"--upgrade-target={good.https_url}", f"--upgrade-target={good.http_url}",
        f"--upgrade-target={bad.https_url}", f"--upgrade-ca={good.cafile}",
    )  # fmt: skip
    # Two deployments (the http URL joins the https URL of its host before it);
    # the second's certificate is not from the CA given: an error, not a pass.
    result.assert_outcomes(passed=1, errors=1)
    good_name = good.https_url.removeprefix("https://")
    bad_name = bad.https_url.removeprefix("https://")
    result.stdout.fnmatch_lines(
        [
            f"*test_marked.py::test_orders[[]{good_name}] PASSED*",
            f"*test_marked.py::test_orders[[]{bad_name}] ERROR*",
        ]
    )


def test_a_bad_targets_line_is_a_usage_error(pytester: pytest.Pytester) -> None:
    targets = pytester.path / "targets.txt"
    targets.write_text("https://a.example\nhttps://b.example  cert=x.pem\n")
    result = _run(pytester, f"--upgrade-targets-file={targets}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{targets}:2: 'https://b.example  cert=x.pem': unexpected*"])
    assert "INTERNALERROR" not in result.stderr.str() + result.stdout.str()


def test_the_ini_lists_deployments(pytester: pytest.Pytester, closed_port: int) -> None:
    ini = pytester.path / "tox.ini"  # written by the autouse _inner_ini fixture
    ini.write_text(
        ini.read_text()
        + f"\nupgrade_targets =\n    https://127.0.0.1:{closed_port} name=one\n"
        + f"    http://127.0.0.1:{closed_port} name=two\n"
    )
    result = _run(pytester, "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "upgrade-requirements::test_requirement[[]one h2 GET /v2/orders]",
            "upgrade-requirements::test_requirement[[]one h2 GET /v2/users]",
            "upgrade-requirements::test_requirement[[]two h2 GET /v2/orders]",
            "upgrade-requirements::test_requirement[[]two h2 GET /v2/users]",
        ]
    )


def test_one_deployment_keeps_its_ids(pytester: pytest.Pytester, closed_port: int) -> None:
    targets = pytester.path / "targets.txt"
    targets.write_text(f"https://127.0.0.1:{closed_port} name=only\n")
    result = _run(pytester, f"--upgrade-targets-file={targets}", "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "upgrade-requirements::test_requirement[[]h2 GET /v2/orders]",
            "upgrade-requirements::test_requirement[[]h2 GET /v2/users]",
        ]
    )
