"""The reports for people, as users get them: --upgrade-html, --upgrade-markdown,
$GITHUB_STEP_SUMMARY and pytest-html, from pytester suites against the bundled
server, serial and under pytest-xdist (merged by the controller).
"""

from __future__ import annotations

import html
import importlib.util
import json
import pathlib
import re
from html.parser import HTMLParser

import pytest

from support.apps import conftest_source
from support.suites import marked, suite

# One requirement that holds (h2 against the app's correct 426), one that
# fails (HTTP/1.1: the app refuses HTTP/1.1 too, asking for HTTP/2).
SUITE = suite(
    marked("test_orders", "h2", "/v2/orders"), marked("test_legacy", "HTTP/1.1", "/legacy")
)
HOSTILE = "<script>alert(1)</script>"


def run(pytester: pytest.Pytester, *args: str, subprocess: bool = False) -> pytest.RunResult:
    pytester.makeconftest(conftest_source(extra_headers=[("x-note", HOSTILE)]))
    pytester.makepyfile(test_suite=SUITE)
    runner = pytester.runpytest_subprocess if subprocess else pytester.runpytest
    return runner("-p", "no:cacheprovider", "--upgrade-timeout=5", *args)


class _Elements(HTMLParser):
    """Every start tag with its attributes, and whether a script element carried a src."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parse(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(page)
    parser.close()
    return parser.tags


def counts_in(page: str) -> dict[str, int]:
    return {
        verdict: int(number)
        for verdict, number in re.findall(r'data-count="(\w+)"><span class="n">(\d+)</span>', page)
    }


def test_html_report_is_the_json_reports_results(pytester: pytest.Pytester) -> None:
    report, page_path = pytester.path / "report.json", pytester.path / "out" / "report.html"
    result = run(pytester, f"--upgrade-report={report}", f"--upgrade-html={page_path}")
    result.assert_outcomes(passed=1, failed=1)
    document = json.loads(report.read_text())
    page = page_path.read_text(encoding="utf-8")
    verdicts = [entry["verdict"] for entry in document["results"]]
    assert counts_in(page) == {
        v: verdicts.count(v) for v in ("failed", "error", "warned", "skipped", "passed")
    }
    assert verdicts.count("passed") == 1
    assert verdicts.count("failed") == 1
    tags = parse(page)
    rows = [attrs for tag, attrs in tags if tag == "tr" and attrs.get("data-entry")]
    assert [row["data-verdict"] for row in rows] == verdicts
    cells = [
        (a["data-check"], a["data-outcome"]) for t, a in tags if t == "td" and a.get("data-check")
    ]
    assert cells  # one per check that ran, matrix order aside
    assert sorted(cells) == sorted(
        (c["id"], c["outcome"]) for entry in document["results"] for c in entry["checks"]
    )
    # The reproduce commands of every requirement, escaped as text.
    for entry in document["results"]:
        assert entry["reproduce"]
        assert entry["exchanges"]
        for command in entry["reproduce"]:
            assert command.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in page
    # What the server sent is shown, never executed: the only script is the report's.
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert [attrs for tag, attrs in tags if tag == "script"] == [{}]
    assert not [a for t, a in tags if a.get("src") or (t == "link" and a.get("href"))]


def test_markdown_summary(pytester: pytest.Pytester) -> None:
    summary = pytester.path / "summary.md"
    result = run(pytester, f"--upgrade-markdown={summary}")
    result.assert_outcomes(passed=1, failed=1)
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## Upgrade compliance: ✘ 1 failed of 2 requirement(s)\n")
    assert "| 1 | 0 | 0 | 0 | 1 |" in text
    failing = text.split("### Failing requirements", 1)[1].split("<details>", 1)[0]
    assert "**HTTP/1.1 GET /legacy** (`test_suite.py::test_legacy`)" in failing
    assert "`upgraded-succeeds`" in failing
    assert "test_orders" not in failing


def test_github_step_summary_is_appended(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = pytester.path / "step-summary.md"
    summary.write_text("# an earlier step's summary\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# an earlier step's summary\n\n## Upgrade compliance: ✘ 1 failed")
    assert text.count("## Upgrade compliance") == 1


def test_no_step_summary_from_a_run_without_requirements(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = pytester.path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert not summary.exists()


def test_an_unwritable_path_is_a_one_line_error(pytester: pytest.Pytester) -> None:
    blocker = pytester.path / "a-file"
    blocker.write_text("not a directory")
    result = run(pytester, f"--upgrade-html={blocker / 'report.html'}")
    result.stdout.fnmatch_lines([f"ERROR: --upgrade-html: cannot write {blocker}/report.html: *"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "INTERNALERROR" not in result.stdout.str()


def test_xdist_merges_every_report(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one xdist run of the reports: every report, pytest-html's rows too where it is
    installed, is written by the controller from what the workers sent."""
    step_summary = pytester.path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    page_path, summary = pytester.path / "report.html", pytester.path / "summary.md"
    pytest_html_page = pytester.path / "pytest-html.html"
    with_pytest_html = importlib.util.find_spec("pytest_html") is not None
    pytest_html = (f"--html={pytest_html_page}", "--self-contained-html")
    result = run(
        pytester,
        "-n",
        "2",
        f"--upgrade-html={page_path}",
        f"--upgrade-markdown={summary}",
        *(pytest_html if with_pytest_html else ()),
        subprocess=True,
    )
    result.assert_outcomes(passed=1, failed=1)
    if with_pytest_html:
        _assert_pytest_html_rows(pytest_html_page)
    page = page_path.read_text(encoding="utf-8")
    assert counts_in(page)["passed"] == 1
    assert counts_in(page)["failed"] == 1
    assert page.count('<article class="requirement"') == 2
    for text in (summary.read_text(encoding="utf-8"), step_summary.read_text(encoding="utf-8")):
        assert "`test_suite.py::test_legacy`" in text
        assert "`test_suite.py::test_orders`" in text
        assert "| 1 | 0 | 0 | 0 | 1 |" in text


def test_pytest_html_rows_carry_the_checks(pytester: pytest.Pytester) -> None:
    pytest.importorskip("pytest_html", reason="pytest-html is not installed")
    page_path = pytester.path / "pytest-html.html"
    result = run(pytester, f"--html={page_path}", "--self-contained-html", subprocess=True)
    result.assert_outcomes(passed=1, failed=1)
    _assert_pytest_html_rows(page_path)


def _assert_pytest_html_rows(page_path: pathlib.Path) -> None:
    page = page_path.read_text(encoding="utf-8")
    # pytest-html keeps each test's data as JSON in an attribute of its page.
    (blob,) = re.findall(r'data-jsonblob="([^"]*)"', page)
    data = json.loads(html.unescape(blob))
    logs = {nodeid: runs[0]["log"] for nodeid, runs in data["tests"].items()}
    for nodeid, check, outcome in (
        ("test_suite.py::test_orders", "status-426", "passed"),
        ("test_suite.py::test_legacy", "upgraded-succeeds", "failed"),
    ):
        log = logs[nodeid]
        assert '<div class="upgrade-compliance"' in log
        assert re.search(rf'<tr id="upgrade-[0-9a-f]+-1-{check}" data-outcome="{outcome}">', log)
        assert "curl -sv" in log
        assert HOSTILE not in log


def test_an_unreachable_target_reads_as_an_error(pytester: pytest.Pytester) -> None:
    import socket

    page_path, summary = pytester.path / "report.html", pytester.path / "summary.md"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        result = pytester.runpytest(
            "-p", "no:cacheprovider", f"--upgrade-target=https://127.0.0.1:{port}",
            "--upgrade-require=h2 /v2/orders", f"--upgrade-html={page_path}",
            f"--upgrade-markdown={summary}",
        )  # fmt: skip
    result.assert_outcomes(errors=1)
    page = page_path.read_text(encoding="utf-8")
    assert counts_in(page)["error"] == 1
    assert re.search(r'<p class="error"><b>Error:</b> [^<]*Connection refused', page)
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## Upgrade compliance: ✘ 1 error of 1 requirement(s)")
    assert "  - error: " in text
    assert "Connection refused" in text
