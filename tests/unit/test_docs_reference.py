"""The reference names everything the plugin offers, and every page can be found.

What the plugin offers is read where a user reads it: the ``upgrade`` group and
the ini-options of ``pytest --help``, and the check registry.
"""

from __future__ import annotations

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).parents[2]
DOCS = ROOT / "docs"
GROUP = "426 Upgrade Required compliance (pytest-upgrade):"


def _help(pytester: pytest.Pytester) -> list[str]:
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function", "--help"
    )
    assert result.ret == 0
    return result.stdout.lines


def _options(lines: list[str]) -> set[str]:
    start = lines.index(GROUP) + 1
    end = next(i for i in range(start, len(lines)) if lines[i] and not lines[i][0].isspace())
    return {m[1] for line in lines[start:end] if (m := re.match(r"  (--[\w-]+)", line))}


def _ini_values(lines: list[str]) -> set[str]:
    return {m[1] for line in lines if (m := re.match(r"  (upgrade_\w+) \(", line))}


def _code_spans(text: str) -> set[str]:
    """Every `code` span, and each option or ini name inside one (`--x=V`, `x (bool)`)."""
    spans = set(re.findall(r"`([^`\n]+)`", text))
    return spans | {m for span in spans for m in re.findall(r"--[\w-]+|\bupgrade_\w+", span)}


def test_the_options_reference_lists_every_option_and_ini_value(
    pytester: pytest.Pytester,
) -> None:
    lines = _help(pytester)
    options, ini = _options(lines), _ini_values(lines)
    # The help was read: the plugin has more options and ini values than this.
    assert len(options) >= 15, options
    assert len(ini) >= 10, ini
    documented = _code_spans((DOCS / "reference" / "options.md").read_text(encoding="utf-8"))
    assert options - documented == set(), "options missing from docs/reference/options.md"
    assert ini - documented == set(), "ini values missing from docs/reference/options.md"


def test_the_check_reference_lists_every_check_id() -> None:
    from pytest_upgrade.checks.catalogue import REGISTRY

    documented = _code_spans((DOCS / "checks.md").read_text(encoding="utf-8"))
    assert set(REGISTRY) - documented == set()


def _pages() -> set[str]:
    return {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}


def _links(page: pathlib.Path) -> set[str]:
    """The pages under docs/ that ``page`` links to (relative Markdown links)."""
    targets = re.findall(r"\]\(([^)\s#]+\.md)(?:#[^)]*)?\)", page.read_text(encoding="utf-8"))
    return {str((page.parent / t).resolve().relative_to(DOCS.resolve())) for t in targets}


def test_every_page_is_linked_from_the_index() -> None:
    assert _pages() - {"index.md"} - _links(DOCS / "index.md") == set()


def test_every_page_is_in_the_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8").split("\nnav:", 1)[1]
    listed = set(re.findall(r":\s+(\S+\.md)\s*$", nav, re.MULTILINE))
    assert _pages() - listed == set()


def test_the_readme_links_every_page() -> None:
    readme = {
        str(pathlib.Path(t).relative_to("docs"))
        for t in re.findall(
            r"\]\((docs/[^)\s#]+\.md)(?:#[^)]*)?\)", (ROOT / "README.md").read_text("utf-8")
        )
    }
    assert _pages() - {"index.md"} - readme == set()
