"""docs/architecture.md stays true to the code: it names every module, and what it names exists."""

from __future__ import annotations

import importlib
import pathlib
import re

import pytest

import pytest_upgrade

SRC = pathlib.Path(pytest_upgrade.__file__).parent
PAGE = (pathlib.Path(__file__).parents[2] / "docs" / "architecture.md").read_text()
# The drawings, before the walk-through: where each module sits.
DRAWN = PAGE[: PAGE.index("## A requirement, from marker to report")]


def _modules() -> list[str]:
    names = []
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        names.append(".".join(parts[:-1]) if parts[-1] == "__init__" else ".".join(parts))
    return names


@pytest.mark.parametrize("module", [m for m in _modules() if m])
def test_every_module_is_drawn_where_it_sits(module: str) -> None:
    """A module is drawn by its last name (``probes.tls`` as ``tls`` among the probes)."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", DRAWN))
    assert module.rsplit(".", maxsplit=1)[-1] in words, (
        f"docs/architecture.md does not draw pytest_upgrade.{module}: put it on its step"
    )


def test_every_dotted_name_the_page_gives_exists() -> None:
    named = set(
        re.findall(
            r"`((?:glue|probes|protocols|checks|report|server|grammar|judge|_[a-z_]+)"
            r"\.[A-Za-z_0-9.]+)`",
            PAGE,
        )
    )
    missing = []
    for dotted in sorted(named):
        parts = dotted.split(".")
        for end in range(len(parts), 0, -1):
            try:
                value: object = importlib.import_module("pytest_upgrade." + ".".join(parts[:end]))
            except ModuleNotFoundError as exc:
                if (exc.name or "").startswith("aioquic"):  # the h3 extra is not installed
                    value = True
                    break
                continue
            for attribute in parts[end:]:
                value = getattr(value, attribute, None)
            break
        else:
            value = None
        if value is None:
            missing.append(dotted)
    assert len(named) > 20
    assert missing == []
