"""The check reference in docs/ is generated from the registry and kept current."""

from __future__ import annotations

import pathlib
import runpy

DOCS = pathlib.Path(__file__).parents[2] / "docs"


def test_check_reference_is_current() -> None:
    generator = runpy.run_path(str(DOCS / "gen_checks.py"))
    rendered = generator["render"]()
    assert (DOCS / "checks.md").read_text(encoding="utf-8") == rendered, (
        "docs/checks.md is stale: run python docs/gen_checks.py"
    )


def test_check_reference_lists_every_registered_id_and_no_other() -> None:
    from pytest_upgrade.checks.catalogue import REGISTRY

    text = (DOCS / "checks.md").read_text(encoding="utf-8")
    listed = {line.split("`")[1] for line in text.splitlines() if line.startswith("| `")}
    assert listed == set(REGISTRY)
