"""The ``pytest-upgrade`` command's argument handling (no pytest run, no socket)."""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from pytest_upgrade.cli import main, translate, upgrade_options

OPTIONS = upgrade_options()


def test_the_options_read_from_the_source_are_those_pytest_registers(
    pytester: pytest.Pytester,
) -> None:
    helped = pytester.runpytest(
        "--help", "-p", "no:randomly", "-o", "asyncio_default_fixture_loop_scope=function"
    )
    # Each option opens a line of the help, its name alone when it is long.
    registered = set(re.findall(r"^\s+(--upgrade-[a-z-]+)", helped.stdout.str(), re.MULTILINE))
    assert set(OPTIONS) == registered
    assert OPTIONS["--upgrade-require"] is True
    assert OPTIONS["--upgrade-strict"] is False


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["https://a.example"], ["--upgrade-target=https://a.example"]),
        (
            ["https://a", "http://a", "--require", "h2 /v2"],
            ["--upgrade-target=https://a", "--upgrade-target=http://a", "--upgrade-require=h2 /v2"],
        ),
        (["--as-of=2027-01-01", "--strict"], ["--upgrade-as-of=2027-01-01", "--upgrade-strict"]),
        (["--upgrade-report", "r.json"], ["--upgrade-report=r.json"]),
        (["--report", "r.json", "-x"], ["--upgrade-report=r.json", "-x"]),
        (["-k", "h2", "--tb=short"], ["-k", "h2", "--tb=short"]),
        (
            ["https://a", "--", "--tb", "line", "tests"],
            ["--upgrade-target=https://a", "--tb", "line", "tests"],
        ),
    ],
)
def test_arguments_become_pytest_arguments(argv: list[str], expected: list[str]) -> None:
    assert translate(argv, OPTIONS) == (expected, False)


@pytest.mark.parametrize("argv", [["-c", "my.ini"], ["--rootdir=."], ["--rootdir", "."]])
def test_a_configuration_is_asked_for_with_c_or_rootdir(argv: list[str]) -> None:
    assert translate(argv, OPTIONS) == (argv, True)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["a.example"], "'a.example' is not an http:// or https:// URL"),
        (["--tb", "line"], "'line' is not an http:// or https:// URL"),
        (["--require"], "--require needs a value"),
        (["-k"], "-k needs a value"),
    ],
)
def test_a_bad_command_line_is_a_usage_error(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", *argv]) == 4
    error = capsys.readouterr().err
    assert error.startswith(f"pytest-upgrade check: {message}")
    assert error.count("\n") == 1


def test_the_overview_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    listed = re.findall(r"^  (\w+) ", capsys.readouterr().out, re.MULTILINE)
    assert listed[:3] == ["check", "render", "merge"]
    assert main([]) == 2
    assert "usage: pytest-upgrade COMMAND" in capsys.readouterr().err


def test_check_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--help"]) == 0
    assert "0 every requirement passed, 1 some failed" in capsys.readouterr().out


def test_report_tools_are_handed_to_their_module(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["merge", str(tmp_path / "out.json"), str(tmp_path / "missing.json")]) == 2
    assert "missing.json: cannot read" in capsys.readouterr().err


def test_render_needs_something_to_write(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["render", "r.json"])
    assert exited.value.code == 2
    assert "nothing to write: give --html PATH and/or --markdown PATH" in capsys.readouterr().err


def test_render_refuses_what_is_not_a_report(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "r.json"
    report.write_text(json.dumps({"version": 1, "results": []}))
    assert main(["render", str(report), "--html", str(tmp_path / "r.html")]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"pytest-upgrade render: {report}: no as_of date")
    assert error.count("\n") == 1
    assert not (tmp_path / "r.html").exists()
    assert main(["render", str(tmp_path / "none.json"), "--markdown", "x.md"]) == 2
    assert "none.json: cannot read: No such file or directory" in capsys.readouterr().err
