"""The wiring of option validation: a bad value, given on the command line or in
the ini file, reaches the user as a one-line usage error (exit 4) before anything
runs. What is a bad value, and its message: tests/unit/test_settings.py."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (["--upgrade-concurrency=0"], "",
         "--upgrade-concurrency: must be between 1 and 256, got 0"),
        ([], "upgrade_requirements =\n    h2 /v2\n    TLS/1.4 /\n",
         "upgrade_requirements line 2: 'TLS/1.4 /': unknown protocol *"),
        (["--upgrade-enforce=websocket"], "",
         "--upgrade-enforce: cannot enforce 'websocket'; enforceable: h2, h2c, *"),
    ],
    ids=["settings", "ini", "enforcement"],
)  # fmt: skip
def test_a_bad_option_is_a_usage_error(
    pytester: pytest.Pytester, args: list[str], ini: str, message: str
) -> None:
    path = pytester.path / "tox.ini"  # the inner ini of tests/integration/conftest.py
    path.write_text(path.read_text() + "\n" + ini)
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert "passed" not in result.stdout.str()  # nothing ran
