"""Every page of the documentation, followed as a reader follows it (see doc_examples).

Each page with runnable examples is one test: its files are written, its
commands run in a fresh directory and their output compared with the page's
(normalised). A page that drifts from the code fails here.
"""

from __future__ import annotations

import pathlib

import pytest

from support.doc_examples import PAGES, ROOT, Page, examples_of, unaccounted_commands

RUNNABLE = [page for page in PAGES if examples_of(page)]


def test_some_pages_are_run() -> None:
    # The markup is found: a lexer change in Sybil must not turn every page green.
    names = {str(page.relative_to(ROOT)) for page in RUNNABLE}
    assert {"docs/tutorial.md", "README.md"} <= names


@pytest.mark.parametrize("path", RUNNABLE, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_page_runs_as_written(path: pathlib.Path, tmp_path: pathlib.Path) -> None:
    page = Page(tmp_path)
    examples = examples_of(path)
    try:
        for example in examples:
            example.namespace["page"] = page
            try:
                example.evaluate()
            except Exception as exc:
                raise AssertionError(
                    f"{path.relative_to(ROOT)} line {example.line}: {exc}"
                ) from None
    finally:
        page.close()


def test_every_command_block_is_run_or_says_why_not() -> None:
    problems = [problem for page in PAGES for problem in unaccounted_commands(page)]
    assert not problems, (
        "command blocks neither run (a console block) nor marked <!-- not-run: REASON -->:\n"
        + "\n".join(problems)
    )
