"""Unit tests for the Markdown summary (``pytest_upgrade.report.markdown``)."""

from __future__ import annotations

from typing import Any

from pytest_upgrade.report.markdown import MAX_LISTED, TOP_DEADLINES, TOP_FAILURES, render_markdown
from support.report_samples import DOCUMENT, entry


def test_heading_counts_and_failures() -> None:
    text = render_markdown(DOCUMENT)
    lines = text.splitlines()
    assert lines[0] == "## Upgrade compliance: ✘ 1 failed of 3 requirement(s)"
    assert lines[2] == (
        "as of 2027-01-15 · targets https://prod.example:443, https://staging.example:443"
    )
    assert lines[4:7] == [
        "| ✘ failed | ‼ error | ⚠ warned | ○ skipped | ✔ passed |",
        "|---:|---:|---:|---:|---:|",
        "| 1 | 0 | 1 | 0 | 1 |",
    ]
    failing = text.split("### Failing requirements\n\n", 1)[1].split("\n\n", 1)[0]
    assert failing.splitlines() == [
        "- ✘ **h2 GET /reports after=2027-03-01** (`test_a.py::test_reports`)",
        "  - `status-426`: status-426 failed (RFC 9110 §15.5.22)",
        "    - expected: 426",
        "    - actual: 200",
    ]


def test_nearest_deadline_ahead_first() -> None:
    text = render_markdown(DOCUMENT)
    table = text.split("### Nearest deadlines\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert table[2:] == [
        "| 2027-03-01 | 45 day(s) left | h2 GET /reports after=2027-03-01 | ✘ failed |",
        "| 2026-12-01 | enforced for 45 day(s) | websocket GET /ws after=2026-12-01 | ⚠ warned |",
    ]


def test_long_parts_fold_into_details() -> None:
    failing = [
        entry(f"t.py::test_{n}", "failed", [("status-426", "failed")], path=f"/p{n}")
        for n in range(TOP_FAILURES + 2)
    ]
    dated = [
        entry(f"d.py::test_{n}", "passed", [], after=f"2027-0{n + 1}-01", days_left=n * 30)
        for n in range(TOP_DEADLINES + 1)
    ]
    text = render_markdown({"as_of": "2027-01-01", "results": failing + dated})
    top = text.split("<details>", 1)[0]
    assert top.count("- ✘ **") == TOP_FAILURES
    assert "<details><summary>2 more failing requirement(s)</summary>" in text
    assert "<details><summary>1 more deadline(s)</summary>" in text
    assert f"<details><summary>All {len(failing) + len(dated)} requirement(s)</summary>" in text
    assert text.count("<details>") == text.count("</details>") == 3


def test_a_passing_run() -> None:
    text = render_markdown({"as_of": "2027-01-15", "results": DOCUMENT["results"][:1]})
    assert text.startswith("## Upgrade compliance: ✔ 1 requirement(s), none failing\n")
    assert "### Failing requirements" not in text
    assert "### Nearest deadlines" not in text


def test_an_empty_run() -> None:
    text = render_markdown({"results": []})
    assert "No requirement was checked in this run." in text


def test_cells_cannot_break_the_table_or_inject_html() -> None:
    hostile: dict[str, Any] = entry(
        "t.py::test[a|b]", "error", [], path="/x|<script>", error="boom\n| injected |"
    )
    text = render_markdown({"as_of": "2027-01-15", "results": [hostile]})
    assert "<script>" not in text
    row = next(line for line in text.splitlines() if line.startswith("| ‼ error"))
    assert row.count(" | ") - row.count("\\| ") == 3  # four cells, whatever the values
    assert "`t.py::test[a\\|b]`" in row
    assert "  - error: boom \\| injected \\|" in text


def test_skipped_requirements_are_not_a_plain_pass() -> None:
    skipped = entry("t.py::test_s", "skipped", [("status-426", "skipped")])
    text = render_markdown({"results": [DOCUMENT["results"][0], skipped]})
    assert text.startswith("## Upgrade compliance: ○ 1 of 2 requirement(s) hold, 1 could not")


def test_warnings_without_failures() -> None:
    text = render_markdown({"results": DOCUMENT["results"][::2]})
    assert text.startswith("## Upgrade compliance: ⚠ 2 requirement(s) hold, 1 warned\n")


def test_a_huge_run_stays_within_a_step_summary() -> None:
    many = [
        entry(f"t.py::test_{n}", "failed", [("status-426", "failed")], path=f"/p{n}")
        for n in range(5000)
    ]
    text = render_markdown({"results": many})
    assert len(text.encode()) < 512 * 1024  # GitHub keeps 1 MiB of a step's summary
    assert f"… and {5000 - TOP_FAILURES - MAX_LISTED} more: see the HTML or JSON report." in text
    assert f"… and {5000 - MAX_LISTED} more: see the HTML or JSON report." in text
