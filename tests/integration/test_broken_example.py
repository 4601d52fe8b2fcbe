"""examples/broken fails, and fails exactly as docs/reference/failure-report.md shows.

The page's excerpt (between the markers below) is compared with the real
report of the example's suite, with the parts that change at every run (ports,
the temporary CA directory, WebSocket keys) replaced by fixed placeholders.
After a deliberate change of the report, rewrite the excerpt with:

    PYTEST_UPGRADE_UPDATE_DOCS=1 python -m pytest tests/integration/test_broken_example.py
"""

from __future__ import annotations

import os
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "broken"
PAGE = ROOT / "docs" / "reference" / "failure-report.md"
START = (
    "<!-- broken-example-report: start"
    " (generated: see tests/integration/test_broken_example.py) -->"
)
END = "<!-- broken-example-report: end -->"
FENCE = "```text"


def normalize(lines: list[str]) -> list[str]:
    """The report with its per-run parts replaced: https port 8443, http port 8080, …"""
    text = "\n".join(lines)
    match = re.search(r"against https://127\.0\.0\.1:(\d+) and http://127\.0\.0\.1:(\d+)", text)
    assert match is not None, text
    https_port, http_port = match.groups()
    text = re.sub(rf"127\.0\.0\.1:{https_port}\b", "127.0.0.1:8443", text)
    text = re.sub(rf"127\.0\.0\.1:{http_port}\b", "127.0.0.1:8080", text)
    text = re.sub(r"\S*/pytest-upgrade-ca-[^/\s]+/ca\.pem", "/tmp/pytest-upgrade-ca-…/ca.pem", text)
    text = re.sub(r"Sec-WebSocket-Key: [A-Za-z0-9+/=]+", "Sec-WebSocket-Key: …", text)
    return text.splitlines()


def excerpt(outlines: list[str]) -> list[str]:
    """Each failure's report, then the upgrade compliance section."""
    reports: list[list[str]] = []
    compliance: list[str] = []
    current: list[str] | None = None
    section = ""
    for line in outlines:
        if re.fullmatch(r"=+ .* =+", line):
            section, current = line.strip("= "), None
        elif section == "FAILURES" and re.fullmatch(r"_+ \S+ _+", line):
            current = [line.strip("_ ") + ":"]
            reports.append(current)
        elif section == "FAILURES" and line.startswith("-" * 10):
            current = None  # captured output: not part of the report
        elif current is not None:
            current.append(line)
        elif section == "upgrade compliance":
            compliance.append(line)
    lines: list[str] = []
    for report in reports:
        lines += [*report, ""]
    return normalize([*lines, "upgrade compliance:", *compliance])


def documented() -> list[str]:
    text = PAGE.read_text(encoding="utf-8")
    block = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert block.startswith(FENCE), block[:80]
    assert block.endswith("```"), block[-80:]
    return block[len(FENCE) : -3].strip("\n").splitlines()


def write_documented(lines: list[str]) -> None:
    text = PAGE.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    block = "\n".join([FENCE, *lines, "```"])
    PAGE.write_text(f"{head}{START}\n{block}\n{END}{tail}", encoding="utf-8")


def test_broken_example_fails_exactly_as_the_docs_show(pytester: pytest.Pytester) -> None:
    for name in ("app.py", "conftest.py", "test_broken.py"):
        pytester.path.joinpath(name).write_text((EXAMPLE / name).read_text(encoding="utf-8"))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2, warnings=3)
    actual = excerpt(result.outlines)
    assert any("(connection-upgrade)" in line for line in actual)
    assert any("(status-426)" in line for line in actual)
    if os.environ.get("PYTEST_UPGRADE_UPDATE_DOCS") == "1":
        write_documented(actual)
    assert actual == documented(), (
        f"{PAGE} no longer shows the broken example's report; if the change is intended, run"
        " PYTEST_UPGRADE_UPDATE_DOCS=1 python -m pytest tests/integration/test_broken_example.py"
    )
