"""Fleets: several live deployments in one run, an item per (deployment, requirement)."""

from __future__ import annotations

import json
import pathlib
import socket
import subprocess
import sys
from collections.abc import Iterator
from xml.etree import ElementTree

import pytest

from support.apps import app_source

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
    pytester: pytest.Pytester, fleet: pathlib.Path, closed_port: int
) -> None:
    report = pytester.path / "out" / "report.json"
    result = _run(pytester, f"--upgrade-targets-file={fleet}", f"--upgrade-report={report}")
    result.assert_outcomes(passed=2, failed=2, errors=2)
    bad_port = int(fleet.read_text().splitlines()[3].split()[0].rsplit(":", 1)[1])
    # The summary: a line per requirement that did not pass, the roll-up, the counts.
    text = result.stdout.str().split(" upgrade compliance ", 1)[1]
    section = text.split(" short test summary info ", 1)[0].splitlines()
    assert not any(line.startswith("PASSED") for line in section)
    # Lines sort by node id, and roll-up rows with as many problems by name: which
    # comes first depends on the ports, so each block is matched by itself.
    failed = f"FAILED  h2 GET /v2/{{}} [[]status-426]  *[[]127.0.0.1:{bad_port} h2 GET /v2/{{}}]"
    error = f"ERROR   h2 GET /v2/{{}}: *refused*  *[[]127.0.0.1:{closed_port} h2 GET /v2/{{}}]"
    for template in (failed, error):
        result.stdout.fnmatch_lines([template.format(p, p) for p in ("orders", "users")])
    result.stdout.fnmatch_lines(["", "target * passed   failed   warned  skipped    error"])
    result.stdout.fnmatch_lines([f"127.0.0.1:{bad_port} * 0        2        0        0        0"])
    result.stdout.fnmatch_lines(
        [f"127.0.0.1:{closed_port} * 0        0        0        0        2"]
    )
    result.stdout.fnmatch_lines(
        [
            "(and 1 target where every requirement passed)",
            "",
            "6 requirements: 2 passed, 2 failed, 2 error (2 passed not listed; -v or -rA*)",
        ]
    )
    assert len([line for line in section if line.startswith(("FAILED", "ERROR"))]) == 4
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
    assert bad["deployment"] == f"127.0.0.1:{bad_port}"  # the name its test id carries
    errors = [r for r in results if r["verdict"] == "error"]
    assert len(errors) == 2
    assert all("Connection refused" in r["error"] for r in errors)


def test_k_selects_a_deployment(pytester: pytest.Pytester, fleet: pathlib.Path) -> None:
    result = _run(pytester, f"--upgrade-targets-file={fleet}", "-k", "good", "-v")
    result.assert_outcomes(passed=2, deselected=4)
    # -v: the test ids name the deployment; the section lists passing requirements.
    result.stdout.fnmatch_lines(
        [
            "*test_requirement[[]good h2 GET /v2/orders] PASSED*",
            "*test_requirement[[]good h2 GET /v2/users] PASSED*",
            "*upgrade compliance*",
            "PASSED  h2 GET /v2/orders  *::test_requirement[[]good h2 GET /v2/orders]",
            "PASSED  h2 GET /v2/users  *::test_requirement[[]good h2 GET /v2/users]",
            "",
            "target * passed   failed   warned  skipped    error",
            "good * 2        0        0        0        0",
            "",
            "2 requirements: 2 passed",
        ]
    )


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


def test_shards_merge_into_the_report_of_the_whole_fleet(
    pytester: pytest.Pytester, fleet: pathlib.Path
) -> None:
    """Two CI jobs, each a -k shard of the fleet; their merged report reads as one run's."""
    as_of = "--upgrade-as-of=2026-11-22"
    whole, one, two = (pytester.path / f"{name}.json" for name in ("whole", "one", "two"))
    _run(pytester, f"--upgrade-targets-file={fleet}", as_of, f"--upgrade-report={whole}")
    _run(
        pytester, f"--upgrade-targets-file={fleet}", as_of, "-k", "good", f"--upgrade-report={one}"
    )
    _run(
        pytester, f"--upgrade-targets-file={fleet}", as_of, "-k", "not good",
        f"--upgrade-report={two}",
    )  # fmt: skip
    merged = pytester.path / "merged.json"
    completed = subprocess.run(
        [sys.executable, "-m", "pytest_upgrade", "merge", str(merged), str(two), str(one)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == f"merged 6 result(s) from 2 report(s) into {merged}\n"

    def verdicts(path: pathlib.Path) -> list[tuple[str, str, str]]:
        document = json.loads(path.read_text())
        return [(r["nodeid"], r["target"], r["verdict"]) for r in document["results"]]

    assert verdicts(merged) == verdicts(whole)
    assert len(verdicts(merged)) == 6


def test_lf_and_junit_work_per_deployment(pytester: pytest.Pytester, fleet: pathlib.Path) -> None:
    junit = pytester.path / "junit.xml"
    first = pytester.runpytest(*REQUIREMENTS, f"--upgrade-targets-file={fleet}")
    first.assert_outcomes(passed=2, failed=2, errors=2)
    again = pytester.runpytest(
        *REQUIREMENTS, f"--upgrade-targets-file={fleet}", "--lf", f"--junitxml={junit}"
    )
    # Only what failed or errored runs again: the good deployment is left out.
    again.assert_outcomes(failed=2, errors=2, deselected=2)
    cases = ElementTree.parse(junit).getroot().iter("testcase")
    names = sorted(case.get("name", "") for case in cases)
    assert len(names) == 4
    assert not any("good" in name for name in names)
    assert all(name.startswith("test_requirement[127.0.0.1:") for name in names)
