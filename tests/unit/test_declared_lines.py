"""Where a declared requirement is written: ``glue.declared.ini_line_numbers``."""

from __future__ import annotations

import pathlib

import pytest

from pytest_upgrade.glue.declared import ini_line_numbers

KEY = "upgrade_requirements"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "[pytest]\nupgrade_requirements =\n    h2 /a\n\n    h2 /b\n", [3, 5], id="ini"
        ),
        pytest.param(
            "[pytest]\nupgrade_requirements = h2 /a\n    h2 /b\n", [2, 3], id="on-the-key"
        ),
        pytest.param(
            "[tool.pytest.ini_options]\nupgrade_requirements = [\n  \"h2 /a\",\n  'h2 /b',\n]\n",
            [3, 4],
            id="toml",
        ),
        pytest.param('upgrade_requirements = ["h2 /a", "h2 /b"]\n', [1, 1], id="toml-one-line"),
        pytest.param("[pytest]\nupgrade_requirements =\n    h2 /b\n", [None, 3], id="missing"),
        pytest.param("[pytest]\nh2 /a\n", [None, None], id="no-key"),
        # A value of another option before the key is not taken for it.
        pytest.param("[pytest]\nx = h2 /a\nupgrade_requirements = h2 /a\n", [3, None], id="after"),
    ],
)
def test_values_are_found_on_their_lines(
    tmp_path: pathlib.Path, text: str, expected: list[int | None]
) -> None:
    path = tmp_path / "config"
    path.write_text(text)
    assert ini_line_numbers(path, KEY, ["h2 /a", "h2 /b"]) == expected


def test_an_unreadable_file_locates_nothing(tmp_path: pathlib.Path) -> None:
    assert ini_line_numbers(tmp_path / "absent.ini", KEY, ["h2 /a"]) == [None]
