"""Generated blocks in the documentation, kept equal to what the code prints.

A block sits between ``<!-- NAME: start (generated: see SOURCE) -->`` and
``<!-- NAME: end -->`` in a Markdown page, as a ``text`` code fence. A test
compares it with a real run and, with ``PYTEST_UPGRADE_UPDATE_DOCS=1``,
rewrites it first.
"""

from __future__ import annotations

import os
import pathlib
import re

FENCE = "```text"
UPDATE = os.environ.get("PYTEST_UPGRADE_UPDATE_DOCS") == "1"


def _markers(text: str, name: str) -> tuple[str, str]:
    start = re.search(rf"<!-- {re.escape(name)}: start[^>]*-->", text)
    assert start is not None, f"no {name} block"
    return start.group(0), f"<!-- {name}: end -->"


def read_block(page: pathlib.Path, name: str) -> list[str]:
    text = page.read_text(encoding="utf-8")
    start, end = _markers(text, name)
    block = text.split(start, 1)[1].split(end, 1)[0].strip()
    assert block.startswith(FENCE), block[:80]
    assert block.endswith("```"), block[-80:]
    return block[len(FENCE) : -3].strip("\n").splitlines()


def write_block(page: pathlib.Path, name: str, lines: list[str]) -> None:
    text = page.read_text(encoding="utf-8")
    start, end = _markers(text, name)
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    block = "\n".join([FENCE, *lines, "```"])
    page.write_text(f"{head}{start}\n{block}\n{end}{tail}", encoding="utf-8")


def failure_report(outlines: list[str]) -> list[str]:
    """The first failure's report in a pytest run's output (without the test's name)."""
    lines: list[str] = []
    for line in outlines:
        if line.startswith("requires_upgrade("):
            lines = [line]
        elif lines and (re.fullmatch(r"=+ .* =+", line) or re.fullmatch(r"_+ \S+ _+", line)):
            break
        elif lines:
            lines.append(line)
    return lines
