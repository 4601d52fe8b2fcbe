"""The HTML report of a large fleet (issue 35): counts first, targets folded, passing
requirements summarised, the failing ones in full, rows in natural order."""

from __future__ import annotations

import re

from pytest_upgrade.report.document import build_document, natural_key
from pytest_upgrade.report.html import render_html
from pytest_upgrade.report.html_scale import FULL_DETAIL_LIMIT
from pytest_upgrade.report.markdown import render_markdown
from support.report_samples import fleet_document


def test_a_fleet_of_5000_by_3_stays_small() -> None:
    document = fleet_document(5000)
    page = render_html(document)
    assert len(page.encode()) < 20_000_000, len(page.encode())
    # Every requirement is on the page, found by the filters.
    assert page.count('<article class="requirement') == 15_000
    assert page.count('<article class="requirement brief"') == 15_000 - 10
    # The failing ones in full: their checks, their matrix rows.
    assert page.count('data-outcome="failed"') >= 10
    assert len(re.findall(r'<tr data-verdict="failed" data-entry=', page)) == 10
    assert "14990 requirement(s) are not rows here" in page
    assert "and 4990 target(s) where every requirement passed" in page


def test_the_headline_has_the_counts_first_and_folds_the_targets() -> None:
    page = render_html(fleet_document(300))
    header = page.split("<header>", 1)[1].split("</header>", 1)[0]
    assert header.index('class="counts"') < header.index("targets")
    assert '<details class="targets"><summary>300 targets</summary>' in header


def test_a_small_run_keeps_every_detail() -> None:
    document = fleet_document(FULL_DETAIL_LIMIT // 3)
    page = render_html(document)
    assert "brief" not in page.split("<main>", 1)[1]
    assert page.count("<h4>Checks</h4>") == len(document["results"])


def test_rows_are_in_natural_order() -> None:
    document = build_document("2027-01-15", fleet_document(12)["results"][::-1], [])
    names = [r["deployment"] for r in document["results"]]
    assert names[:6] == ["n0", "n0", "n0", "n1", "n1", "n1"]
    assert names[-3:] == ["n11"] * 3
    assert sorted(["n10", "n2", "n1", "n100"], key=natural_key) == ["n1", "n2", "n10", "n100"]


def test_markdown_folds_a_long_target_list() -> None:
    text = render_markdown(fleet_document(300))
    head = text.split("\n\n", 2)[1]
    assert len(head) < 200, head
    assert "300 targets" in head


def test_a_fleet_failing_everywhere_stays_small_too() -> None:
    page = render_html(fleet_document(2000, failing_every=1))
    # Every deployment's /v2/orders fails: 2,000 failing, the first 500 in full.
    assert page.count("<h4>Checks</h4>") == FULL_DETAIL_LIMIT
    assert page.count('<article class="requirement') == 6000
    assert len(page.encode()) < 20_000_000
