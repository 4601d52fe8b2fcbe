"""The check reference in docs/ is generated from the registry and kept current."""

from __future__ import annotations

import pathlib
import re
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


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else len(text)]


def test_marker_reference_lists_the_registered_protocols() -> None:
    from pytest_upgrade.protocols import ENFORCEABLE, PROTOCOLS

    text = (DOCS / "reference" / "marker.md").read_text(encoding="utf-8")
    names = {name for p in PROTOCOLS.values() for name in p.names}
    (row,) = [line for line in text.splitlines() if line.startswith("| `protocol` | str")]
    assert set(re.findall(r'`"([^"`]+)"`', row)) == names
    table = _section(text, "## Protocols")
    firsts = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    documented = {token for cell in firsts[1:] for token in re.findall(r"`([^`]+)`", cell)}
    assert documented == set(PROTOCOLS)
    enforce = _section(text, "## The `upgrade_enforce` marker")
    listed = re.search(r"legacy protocol of each token \(([^)]*)\)", " ".join(enforce.split()))
    assert listed is not None
    assert re.findall(r"`([^`]+)`", listed.group(1)) == list(ENFORCEABLE)
