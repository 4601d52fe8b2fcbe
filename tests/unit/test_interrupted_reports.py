"""An interrupted run's document, as each report renders it (issue 35)."""

from __future__ import annotations

from typing import Any

from pytest_upgrade.report.document import build_document, is_incomplete
from pytest_upgrade.report.html import render_html
from pytest_upgrade.report.markdown import render_markdown
from pytest_upgrade.report.summary import summary_lines
from support.report_samples import entry


def interrupted(reported: int, selected: int, collected: int | None = None) -> dict[str, Any]:
    results = [
        entry(f"t.py::test_{n}", "passed", [("status-426", "passed")]) for n in range(reported)
    ]
    return build_document(
        "2027-01-15",
        results,
        [],
        interrupted=True,
        collected=collected,
        selected=selected,
    )


def test_the_document_counts_what_was_collected_and_reported() -> None:
    document = interrupted(10, 31, 40)
    assert document["interrupted"] is True
    assert document["requirements"] == {"collected": 40, "selected": 31, "reported": 10}
    assert is_incomplete(document)
    # Fewer results than selected is incomplete whatever the flag says.
    short = build_document("2027-01-15", [], [], selected=2)
    assert short["interrupted"] is True
    assert not is_incomplete(build_document("2027-01-15", [], []))


def test_markdown_never_says_all_is_well_for_an_interrupted_run() -> None:
    text = render_markdown(interrupted(10, 31))
    first = text.splitlines()[0]
    assert first.startswith("## Upgrade compliance: ‼ interrupted: 10 of 31 selected")
    assert "✔" not in first.split(";")[0]
    assert "> **interrupted: 10 of 31 selected requirement(s) reported;" in text


def test_html_says_so_above_the_counts() -> None:
    page = render_html(interrupted(10, 31, 40))
    alert = page.index('<p class="interrupted" role="alert">')
    assert alert < page.index('class="counts"')
    assert "interrupted: 10 of 31 selected requirement(s) reported (40 collected)" in page
    assert "interrupted" not in render_html(build_document("2027-01-15", [], [])).split("<body>")[1]


def test_an_empty_terminal_count_has_nothing_after_it() -> None:
    assert summary_lines([], show_all=False) == ["0 requirements"]
