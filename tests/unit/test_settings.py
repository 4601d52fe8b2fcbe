"""Option validation without pytest running: ``glue.settings.read_settings`` and
``glue.enforcement.enforced_tokens`` take the values as pytest parsed them and
return the settings or raise a one-line usage error (the wiring, exit code 4,
is tested with pytester in tests/integration/test_options.py)."""

from __future__ import annotations

import datetime as dt
import fnmatch
import importlib
import pathlib
from typing import Any

import pytest

from pytest_upgrade import plugin
from pytest_upgrade.glue.enforcement import enforced_tokens
from pytest_upgrade.glue.settings import (
    DEFAULT_TIMEOUT,
    INI_NAMES,
    OPTION_FLAGS,
    Settings,
    read_settings,
)

TODAY = dt.date(2026, 12, 1)
SECRET = "s3cret-tok3n"
ENVIRON = {"API_TOKEN": SECRET}
UNSET = "Authorization: Bearer ${UNSET_TOKEN}"


def settings(values: dict[str, Any], base_dir: pathlib.Path = pathlib.Path()) -> Settings:
    return read_settings(values, base_dir=base_dir, today=TODAY, environ=ENVIRON)


def usage_error(values: dict[str, Any], base_dir: pathlib.Path = pathlib.Path()) -> str:
    with pytest.raises(pytest.UsageError) as raised:
        settings(values, base_dir)
    (message,) = raised.value.args
    assert "\n" not in message
    return str(message)


def test_nothing_given_is_the_bundled_server_with_the_defaults() -> None:
    result = settings({})
    assert not result.live
    assert result.timeout == DEFAULT_TIMEOUT
    assert result.as_of == TODAY
    assert (result.strict, result.selected, result.declared) == (False, None, ())


def test_the_command_line_wins_over_the_ini_file() -> None:
    result = settings(
        {"--upgrade-timeout": 2.0, "upgrade_timeout": "9", "upgrade_concurrency": "4"}
    )
    assert (result.timeout, result.concurrency) == (2.0, 4)
    assert settings({"--upgrade-strict": None, "upgrade_strict": True}).strict


def test_a_misspelt_key_is_not_taken_for_unset() -> None:
    with pytest.raises(KeyError, match="--upgrade-timout"):
        settings({"--upgrade-timout": "1"})


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"--upgrade-concurrency": "0"}, "--upgrade-concurrency: must be between 1 and 256, got 0"),
        ({"--upgrade-concurrency": "many"}, "--upgrade-concurrency: not a whole number: 'many'"),
        ({"upgrade_host_limit": "999"}, "--upgrade-host-limit: must be between 1 and 256, got 999"),
        ({"--upgrade-probe-ahead": "some"},
         "--upgrade-probe-ahead: expected declared or all, got 'some'"),
        ({"upgrade_timeout": "soon"}, "--upgrade-timeout: not a number: 'soon'"),
        ({"--upgrade-timeout": 0.0}, "--upgrade-timeout: must be between 0 and 600 seconds, got 0"),
        ({"--upgrade-ca": "absent.pem"}, "--upgrade-ca: no such file: absent.pem"),
        ({"--upgrade-origin": "app.example"}, "--upgrade-origin: *"),
        ({"--upgrade-checks": ["status-427"]},
         "--upgrade-checks: unknown check id(s) status-427; known: status-426, *"),
        ({"--upgrade-skip-checks": ["status-426,nope"]},
         "--upgrade-skip-checks: unknown check id(s) nope; known: *"),
    ],
    ids=["concurrency", "whole", "host-limit", "probe-ahead", "timeout", "timeout-range",
         "ca", "origin", "checks", "skip-checks"],
)  # fmt: skip
def test_a_bad_value_is_a_usage_error(values: dict[str, Any], message: str) -> None:
    assert fnmatch.fnmatchcase(usage_error(values), message)


@pytest.mark.parametrize("value", ["", "20261201", "2026-W49-1", "2026-12-1", "today", "next-week"])
def test_as_of_takes_only_yyyy_mm_dd(value: str) -> None:
    message = usage_error({"--upgrade-as-of": value})
    unset = " (empty: an unset variable?)" if not value else ""
    assert message == f"--upgrade-as-of: expected a date YYYY-MM-DD, got {value!r}{unset}"


def test_as_of_replaces_today() -> None:
    assert settings({"--upgrade-as-of": "2027-03-01"}).as_of == dt.date(2027, 3, 1)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("h4 /x", "--upgrade-require: 'h4 /x': unknown protocol 'h4'*"),
        ("h2 /x verb=GET", "--upgrade-require: 'h2 /x verb=GET': 'verb=GET' is not an option*"),
        ("h2 /x after=soon", "*after must be a date in the form YYYY-MM-DD*"),
        ("h2 /v2/orders after=20270301",
         "*after must be a date in the form YYYY-MM-DD, got '20270301'*"),
    ],
)  # fmt: skip
def test_a_malformed_declared_line_is_a_usage_error(line: str, message: str) -> None:
    assert fnmatch.fnmatchcase(usage_error({"--upgrade-require": [line]}), message)


def test_a_malformed_ini_line_names_its_line() -> None:
    lines = ["h2 /v2/orders", "websocket", "TLS/1.4 /"]
    message = usage_error({"upgrade_requirements": lines})
    assert message.startswith("upgrade_requirements line 3: 'TLS/1.4 /': unknown protocol")


def test_declared_lines_keep_where_they_were_written() -> None:
    result = settings(
        {"upgrade_requirements": ["# a comment", "h2 /a", "h2 /a"], "--upgrade-require": ["h2 /b"]}
    )
    assert [str(r.path) for r in result.declared] == ["/a", "/b"]
    assert list(result.declared_at.values()) == [2]
    assert [r.path for r in result.declared_on_command_line] == ["/b"]


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"--upgrade-header": [UNSET]}, "--upgrade-header: "),
        ({"upgrade_headers": ["", UNSET]}, "upgrade_headers line 2: "),
        ({"--upgrade-require": [f"h2 / header='{UNSET}'"]}, "--upgrade-require: "),
    ],
    ids=["upgrade-header", "ini", "declared"],
)
def test_an_unset_variable_is_a_usage_error(values: dict[str, Any], where: str) -> None:
    message = usage_error(values)
    assert message.startswith(where)
    assert "${UNSET_TOKEN} is not set in the environment" in message


def test_a_set_variable_stays_unexpanded_in_the_settings() -> None:
    result = settings({"--upgrade-header": ["Authorization: Bearer ${API_TOKEN}"]})
    assert result.headers == (("Authorization", "Bearer ${API_TOKEN}"),)
    assert SECRET not in repr(result.headers)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://user:secret@127.0.0.1:9/x", "credentials in a target URL are not sent"),
        ("https://127.0.0.1:9/q?token=abc", "cannot carry a query"),
        ("https://127.0.0.1:9/x#part", "a fragment is never sent"),
    ],
)
def test_what_a_target_cannot_carry_is_a_usage_error(url: str, message: str) -> None:
    shown = usage_error({"--upgrade-target": [url]})
    assert shown.startswith("--upgrade-target: ")
    assert message in shown


def test_a_bad_targets_file_is_a_usage_error(tmp_path: pathlib.Path) -> None:
    targets = tmp_path / "targets.txt"
    given = {"--upgrade-targets-file": str(targets)}
    targets.write_text("https://a.example\nhttps://b.example  certificate=x.pem\n")
    assert usage_error(given).startswith(
        f"{targets}:2: 'https://b.example  certificate=x.pem': unexpected"
    )
    targets.write_text('https://127.0.0.1:1 header="Connection: close"\n')
    assert usage_error(given).startswith(f"{targets}:1: ")
    assert "header 'Connection' cannot be set on a probe" in usage_error(given)
    targets.write_text("# nothing yet\n\n")
    assert usage_error(given) == f"--upgrade-targets-file: {targets} lists no deployment"
    targets.write_text("https://a.example\nhttps://a.example\n")
    assert usage_error(given) == (
        f"{targets}:2: a second deployment named 'a.example' (first: {targets}:1);"
        " give one of them name=NAME"
    )
    missing = tmp_path / "missing.txt"
    assert usage_error({"--upgrade-targets-file": str(missing)}) == (
        f"--upgrade-targets-file: cannot read {missing}: No such file or directory"
    )


def test_the_ini_targets_name_their_line_and_paths_start_at_the_ini(
    tmp_path: pathlib.Path,
) -> None:
    given = {"upgrade_targets": ["https://a.example ca=ca.pem"]}
    message = usage_error(given, base_dir=tmp_path)
    assert message.startswith("upgrade_targets line 1: 'https://a.example ca=ca.pem': ")
    assert str(tmp_path / "ca.pem") in message
    (tmp_path / "ca.pem").write_text("")
    (deployment,) = settings(given, base_dir=tmp_path).fleet
    assert deployment.name == "a.example"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"--upgrade-enforce": ["h3"]},
         "--upgrade-enforce: cannot enforce 'h3'; enforceable: h2, h2c, "),
        ({"--upgrade-enforce": ["websocket"]},
         "--upgrade-enforce: cannot enforce 'websocket'; enforceable: h2, h2c, TLS/1.2"),
        ({"upgrade_enforce": ["h9"]}, "upgrade_enforce: cannot enforce 'h9'; "),
    ],
    ids=["h3", "websocket", "ini"],
)  # fmt: skip
def test_what_cannot_be_enforced_is_a_usage_error(values: dict[str, Any], message: str) -> None:
    with pytest.raises(pytest.UsageError) as raised:
        enforced_tokens(values)
    assert str(raised.value).startswith(message)


def test_enforced_tokens_are_canonical_and_once_each() -> None:
    given = {"--upgrade-enforce": ["HTTP/2", "h2"], "upgrade_enforce": ["h2c"]}
    assert enforced_tokens(given) == ("h2", "h2c")
    assert enforced_tokens({}) == ()


class _Recorder:
    """Stands in for pytest's parser and its option group: records what is registered."""

    def __init__(self) -> None:
        self.flags: list[str] = []
        self.ini: list[str] = []

    def getgroup(self, *args: object) -> _Recorder:
        return self

    def addoption(self, flag: str, **kwargs: object) -> None:
        self.flags.append(flag)

    def addini(self, name: str, *args: object, **kwargs: object) -> None:
        self.ini.append(name)


# Registered by a feature's module but read by its own pure function
# (enforced_tokens, read_gate) or by the report writer, not by the settings.
_READ_ELSEWHERE = {
    "--upgrade-enforce",
    "upgrade_enforce",
    "--upgrade-waivers",
    "upgrade_waivers",
    "--upgrade-baseline",
    "--upgrade-html",
    "--upgrade-markdown",
}


def test_the_settings_read_every_option_the_features_register() -> None:
    parser = _Recorder()
    for name in plugin.pytest_plugins:
        addoption = getattr(importlib.import_module(name), "pytest_addoption", None)
        if addoption is not None:
            addoption(parser)
    assert sorted(parser.flags) == sorted(set(parser.flags)), "an option registered twice"
    assert set(parser.flags) - _READ_ELSEWHERE == set(OPTION_FLAGS)
    assert set(parser.ini) - _READ_ELSEWHERE == set(INI_NAMES)
