"""Declared requirements are selected as tests are: by the run's arguments,
by their node ids, by ``-m requires_upgrade``; ``--collect-only`` writes no
report; a declared item is located at the configuration line declaring it.
"""

from __future__ import annotations

import json

import pytest

from support.apps import INNER_INI, conftest_source
from support.suites import marked, suite, unmarked

INI = (
    INNER_INI
    + """\
upgrade_requirements =
    h2 /reports
    h2 /orders
"""
)

TEST_A = suite(marked("test_orders", "h2", "/v2/orders"), unmarked("test_plain"))

REPORTS = "upgrade-requirements::test_requirement[h2 GET /reports]"
ORDERS = "upgrade-requirements::test_requirement[h2 GET /orders]"


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    pytester.makeconftest(conftest_source())
    pytester.makepyfile(test_a=TEST_A)
    pytester.mkpydir("pkg_b").joinpath("test_b.py").write_text("def test_b():\n    pass\n")
    return pytester


def _collected(pytester: pytest.Pytester, *args: str) -> list[str]:
    result = pytester.runpytest("-p", "no:cacheprovider", "--collect-only", "-q", *args)
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED), result.stdout
    return [line for line in result.stdout.lines if "::" in line]


ALL = [
    REPORTS,
    ORDERS,
    "test_a.py::test_orders",
    "test_a.py::test_plain",
    "pkg_b/test_b.py::test_b",
]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((), ALL, id="nothing"),
        pytest.param((".",), ALL, id="the rootdir"),
        pytest.param(("test_a.py::test_orders",), ["test_a.py::test_orders"], id="one node"),
        pytest.param(
            ("test_a.py",), ["test_a.py::test_orders", "test_a.py::test_plain"], id="file"
        ),
        pytest.param(("pkg_b",), ["pkg_b/test_b.py::test_b"], id="a directory"),
        pytest.param((REPORTS,), [REPORTS], id="a declared node id"),
        pytest.param(("upgrade-requirements",), [REPORTS, ORDERS], id="the declared prefix"),
        pytest.param(
            ("test_a.py::test_plain", ORDERS), [ORDERS, "test_a.py::test_plain"], id="mixed"
        ),
        pytest.param(
            ("-m", "requires_upgrade"), [REPORTS, ORDERS, "test_a.py::test_orders"], id="-m"
        ),
        pytest.param(
            ("test_a.py::test_plain", "--upgrade-require=h2 /cli"),
            ["upgrade-requirements::test_requirement[h2 GET /cli]", "test_a.py::test_plain"],
            id="--upgrade-require is always collected",
        ),
    ],
)
def test_the_arguments_select_declared_requirements(
    project: pytest.Pytester, args: tuple[str, ...], expected: list[str]
) -> None:
    assert sorted(_collected(project, *args)) == sorted(expected)


def test_the_rootdir_given_absolutely_selects_them(project: pytest.Pytester) -> None:
    assert sorted(_collected(project, str(project.path))) == sorted(ALL)


def test_a_declared_node_id_runs_on_the_command_line(project: pytest.Pytester) -> None:
    result = project.runpytest("-p", "no:cacheprovider", "-rA", REPORTS)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["PASSED  h2 GET /reports  " + REPORTS])


def test_a_declared_node_id_under_xdist(project: pytest.Pytester) -> None:
    result = project.runpytest("-p", "no:cacheprovider", "-n", "2", REPORTS, "test_a.py")
    result.assert_outcomes(passed=3)


def test_a_declared_item_is_located_at_its_configuration_line(project: pytest.Pytester) -> None:
    items, _ = project.inline_genitems("-p", "no:cacheprovider")
    located = {item.nodeid: item.location for item in items}
    # pytest's locations count lines from 0.
    lines = (project.path / "tox.ini").read_text().splitlines()
    reports, orders = lines.index("    h2 /reports"), lines.index("    h2 /orders")
    assert located[REPORTS] == ("tox.ini", reports, "test_requirement[h2 GET /reports]")
    assert located[ORDERS][:2] == ("tox.ini", orders)
    result = project.runpytest("-p", "no:cacheprovider", "-v", REPORTS)
    assert f"{REPORTS} PASSED" in result.stdout.str()


def test_a_pyproject_declared_item_is_located_at_its_line(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        """
[tool.pytest.ini_options]
asyncio_default_fixture_loop_scope = "function"
upgrade_requirements = [
    "h2 /reports",
    "h2 /orders",
]
"""
    )
    pytester.makeconftest(conftest_source())
    items, _ = pytester.inline_genitems("-p", "no:cacheprovider")
    lines = (pytester.path / "pyproject.toml").read_text().splitlines()
    expected = [lines.index('    "h2 /reports",'), lines.index('    "h2 /orders",')]
    assert [item.location[:2] for item in items] == [("pyproject.toml", n) for n in expected]


@pytest.mark.parametrize("option", ["--upgrade-report", "--upgrade-markdown", "--upgrade-html"])
def test_collect_only_writes_no_report(project: pytest.Pytester, option: str) -> None:
    report = project.path / "out" / "report"
    report.parent.mkdir()
    report.write_text("the real report\n")
    result = project.runpytest("-p", "no:cacheprovider", "--collect-only", f"{option}={report}")
    assert result.ret == pytest.ExitCode.OK
    assert report.read_text() == "the real report\n"


def test_a_run_after_collect_only_still_writes_its_report(project: pytest.Pytester) -> None:
    report = project.path / "report.json"
    project.runpytest("-p", "no:cacheprovider", REPORTS, f"--upgrade-report={report}")
    (entry,) = json.loads(report.read_text())["results"]
    assert entry["nodeid"] == REPORTS


def test_a_target_with_only_unselected_declared_lines_says_why(project: pytest.Pytester) -> None:
    result = project.runpytest(
        "-p", "no:cacheprovider", "--upgrade-target=https://127.0.0.1:9", "test_a.py::test_plain"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*none of the tests selected has a requirement*name them with 'upgrade-requirements'*"]
    )
