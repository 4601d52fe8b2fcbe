"""The waivers file and the baseline as given: ``glue.gating.read_gate`` returns the
run's gate or raises a one-line usage error naming the file and line (without pytest
running; the wiring is tested in tests/integration/test_waiver_errors.py)."""

from __future__ import annotations

import fnmatch
import pathlib
from typing import Any

import pytest

from pytest_upgrade.glue.gating import read_gate
from support.waivers import ONE_WAIVER

GOOD = ONE_WAIVER


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the files are named as users name them: relative


def usage_error(values: dict[str, Any], base_dir: pathlib.Path = pathlib.Path()) -> str:
    with pytest.raises(pytest.UsageError) as raised:
        read_gate(values, base_dir=base_dir)
    (message,) = raised.value.args
    assert "\n" not in message
    return str(message)


def test_nothing_given_is_no_gate() -> None:
    gate = read_gate({}, base_dir=pathlib.Path())
    assert (gate.waivers, gate.baseline) == ((), None)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("# fine\n[[waiver]]\ndeployment = \n", "waivers.toml:3: not valid TOML: *"),
        (GOOD.replace("until = 2027-01-31\n", ""), "waivers.toml:1: the waiver has no until *"),
        ("\n\n" + GOOD + "\n" + GOOD.replace('reason = "OPS-9"\n', ""),
         "waivers.toml:9: the waiver has no reason *"),
        (GOOD + 'checks = ["status-426", "no-such-check"]\n',
         "waivers.toml:1: unknown check id 'no-such-check' *"),
        (GOOD.replace("2027-01-31", '"soon"'), "waivers.toml:1: until must be a date *"),
        (GOOD.replace("h2 /v2", "h9 /v2"), "waivers.toml:1: requirement 'h9 /v2/orders': *"),
        (GOOD + 'owner = "me"\n', "waivers.toml:1: unknown key 'owner'; *"),
        ('[waivers]\nx = 1\n', "waivers.toml:1: unknown table or key 'waivers'; *"),
    ],
    ids=["toml", "until", "reason", "check-id", "until-type", "requirement", "key", "table"],
)  # fmt: skip
def test_a_bad_waivers_file_is_a_usage_error_naming_its_line(text: str, line: str) -> None:
    pathlib.Path("waivers.toml").write_text(text)
    message = usage_error({"--upgrade-waivers": "waivers.toml"})
    assert fnmatch.fnmatchcase(message, f"--upgrade-waivers: {line}"), message


def test_a_missing_waivers_file_is_a_usage_error() -> None:
    assert usage_error({"--upgrade-waivers": "absent.toml"}) == (
        "--upgrade-waivers: cannot read absent.toml: No such file or directory"
    )


def test_the_ini_names_the_waivers_file_from_its_directory(tmp_path: pathlib.Path) -> None:
    (tmp_path / "gate").mkdir()
    (tmp_path / "gate" / "waivers.toml").write_text(GOOD)
    (waiver,) = read_gate({"upgrade_waivers": "gate/waivers.toml"}, base_dir=tmp_path).waivers
    assert waiver.reason == "OPS-9"
    assert waiver.where == f"{tmp_path / 'gate' / 'waivers.toml'}:1"
    # The command line's file wins over the ini file's.
    given = {"upgrade_waivers": "gate/waivers.toml", "--upgrade-waivers": "absent.toml"}
    assert "cannot read absent.toml" in usage_error(given, base_dir=tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "--upgrade-baseline: baseline.json:1: not JSON *"),
        ('{"version": 1}', "--upgrade-baseline: baseline.json: not a pytest-upgrade report *"),
        ('{"results": [{"nodeid": "t"}]}', "*baseline.json: a result has no 'requirement'*"),
    ],
    ids=["json", "report", "entry"],
)
def test_a_bad_baseline_is_a_usage_error(text: str, message: str) -> None:
    pathlib.Path("baseline.json").write_text(text)
    shown = usage_error({"--upgrade-baseline": "baseline.json"})
    assert fnmatch.fnmatchcase(shown, message), shown
