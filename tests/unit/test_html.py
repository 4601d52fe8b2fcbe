"""Unit tests for the HTML report (``pytest_upgrade.report.html``): a hand-made document in,
the page's parts read back with the standard library's HTML parser.
"""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser

from pytest_upgrade.report.html import render_html
from pytest_upgrade.report.html_requirements import pytest_html_fragment
from support.report_samples import DOCUMENT, entry

HOSTILE = '<img src=x onerror="alert(1)">'


class Page(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def all(self, tag: str, **wanted: str) -> list[dict[str, str | None]]:
        return [
            attrs
            for name, attrs in self.tags
            if name == tag and all(attrs.get(k.replace("_", "-")) == v for k, v in wanted.items())
        ]


def test_headline_counts_each_verdict() -> None:
    page = render_html(DOCUMENT)
    counts = dict(re.findall(r'data-count="(\w+)"><span class="n">(\d+)</span>', page))
    assert counts == {"failed": "1", "error": "0", "warned": "1", "skipped": "0", "passed": "1"}
    assert "<title>Upgrade compliance as of 2027-01-15</title>" in page
    assert "targets: https://prod.example:443, https://staging.example:443" in page


def test_matrix_has_a_cell_per_check_and_a_dot_where_none_ran() -> None:
    text = render_html(DOCUMENT)
    page = Page(text.split('<table class="matrix">', 1)[1].split("</table>", 1)[0])
    entries = [r for r in page.all("tr") if r.get("data-entry")]
    assert [r["data-verdict"] for r in entries] == ["passed", "failed", "warned"]
    cells = [(a["data-check"], a.get("data-outcome")) for a in page.all("td") if "data-check" in a]
    columns = ["status-426", "upgrade-present", "websocket-accept", "deprecation-header"]
    assert [c for c, _ in cells] == [
        *columns[:1], "", "", "",
        *columns[:2], "", "",
        "", "", *columns[2:],
    ]  # fmt: skip
    assert ("status-426", "failed") in cells
    assert ("deprecation-header", "warned") in cells


def test_checks_show_their_evidence_and_link_from_the_matrix() -> None:
    page = render_html(DOCUMENT)
    assert '<a href="#r2-status-426"' in page
    assert '<tr id="r2-status-426" data-outcome="failed">' in page
    assert '<div class="detail"><b>expected:</b> 426</div>' in page
    assert "RFC 9110 §15.5.22" in page
    assert '<button type="button" data-copy="r2-reproduce"' in page
    assert '<code id="r2-reproduce">curl -sv --http1.1' in page


def test_failing_requirements_are_open_and_passing_ones_folded() -> None:
    page = render_html(DOCUMENT)
    articles = re.findall(r'<article class="requirement" id="(r\d)"[^>]*><details( open)?>', page)
    assert articles == [("r1", ""), ("r2", " open"), ("r3", " open")]


def test_everything_from_the_run_is_escaped() -> None:
    document = copy.deepcopy(DOCUMENT)
    hostile = document["results"][1]
    hostile["nodeid"] = f"test_x.py::test[{HOSTILE}]"
    hostile["checks"][0]["actual"] = HOSTILE
    hostile["exchanges"][0]["response"]["headers"].append(["x-note", HOSTILE])
    hostile["reproduce"] = [f"curl '{HOSTILE}'"]
    hostile["target"] = HOSTILE
    page = render_html(document)
    assert HOSTILE not in page
    parsed = Page(page)
    assert parsed.all("img") == []
    assert [attrs for tag, attrs in parsed.tags if any(k.startswith("on") for k in attrs)] == []


def test_the_page_loads_nothing() -> None:
    page = render_html(DOCUMENT)
    parsed = Page(page)
    assert not [a for t, a in parsed.tags if "src" in a or (t == "link")]
    (policy,) = parsed.all("meta", http_equiv="Content-Security-Policy")
    assert policy["content"] is not None
    assert policy["content"].startswith("default-src 'none';")
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page.replace("https://staging.example", "").replace(
        "https://prod.example", ""
    )


def test_timeline_places_deadlines_and_as_of() -> None:
    page = render_html(DOCUMENT)
    svg = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    circles = re.findall(r'<circle cx="([\d.]+)" cy="\d+" r="7" fill="(#\w+)"/>', svg)
    # 2026-12-01 (warned) before 2027-03-01 (failed): nearest first, left to right.
    assert [fill for _, fill in circles] == ["#9a6700", "#cf222e"]
    assert float(circles[0][0]) < float(circles[1][0])
    (as_of_x,) = re.findall(r'<line x1="([\d.]+)" y1="22"', svg)
    assert float(circles[0][0]) < float(as_of_x) < float(circles[1][0])
    assert "as of 2027-01-15" in svg
    assert "45 day(s) left" in svg
    assert "enforced for 45 day(s)" in svg


def test_no_deadline_no_timeline() -> None:
    document = {**DOCUMENT, "results": DOCUMENT["results"][:1]}
    page = render_html(document)
    assert "<svg" not in page
    assert "No requirement has a deadline" in page


def test_targets_roll_up() -> None:
    page = render_html(DOCUMENT)
    rollup = page.split('<table class="stack rollup">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', rollup)
    assert [target for target, _ in rows] == [
        "https://prod.example:443",
        "https://staging.example:443",
    ]
    staging = dict(re.findall(r'data-label="(\w+)"[^>]*>(\d+)<', rows[1][1]))
    assert staging == {
        "requirements": "2",
        "failed": "1",
        "error": "0",
        "warned": "0",
        "skipped": "0",
        "passed": "1",
    }


def test_an_empty_run_is_a_page_that_says_so() -> None:
    page = render_html({"version": 1, "results": [], "refused": []})
    assert "No requirement was checked in this run." in page
    assert page.rstrip().endswith("</html>")


def test_an_error_entry_shows_its_cause() -> None:
    errored = entry("test_c.py::test_down", "error", [], error="connect refused")
    page = render_html({"version": 1, "as_of": "2027-01-15", "results": [errored]})
    assert '<p class="error"><b>Error:</b> connect refused</p>' in page
    assert 'data-count="error"><span class="n">1</span>' in page


def test_refused_requests_are_listed() -> None:
    document = {
        **DOCUMENT,
        "refused": [
            {
                "method": "GET",
                "path": "/v1",
                "spoken": "HTTP/1.1",
                "required": "h2",
                "test": "t.py::t",
            }
        ],
    }
    page = render_html(document)
    assert "Requests refused by enforcement" in page
    assert "<code>t.py::t</code>" in page


def test_pytest_html_fragment_is_one_line_without_a_script() -> None:
    fragment = pytest_html_fragment(DOCUMENT["results"][1:2], "upgrade-abc")
    body = fragment.replace(DOCUMENT["results"][1]["reproduce"][0], "")
    assert "\n" not in body
    assert "<button" not in fragment
    assert "<script" not in fragment
    assert '<tr id="upgrade-abc-1-status-426" data-outcome="failed">' in fragment
    assert "✘ failed</b> h2 GET /reports after=2027-03-01" in fragment
