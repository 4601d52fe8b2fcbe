"""The comparison the documentation's examples are run with (tests/support/doc_examples.py)."""

from __future__ import annotations

import pathlib

import pytest

from support.doc_examples import (
    Page,
    examples_of,
    excerpt_mismatch,
    normalise,
    unaccounted_commands,
)

OUTPUT = ["header", "collected 1 item", "", "test_x.py .   [100%]", "1 passed in Ns"]


@pytest.mark.parametrize(
    "expected",
    [
        OUTPUT,
        ["...", "test_x.py .   [100%]", "1 passed in Ns"],
        ["header", "...", "1 passed in Ns"],
        ["...", "collected 1 item", "..."],
        ["header", "…", "", "test_x.py … [100%]", "…"],  # … is a gap line, and part of a line
    ],
)
def test_an_excerpt_matches(expected: list[str]) -> None:
    assert excerpt_mismatch(expected, OUTPUT) is None


@pytest.mark.parametrize(
    ("expected", "why"),
    [
        (["collected 1 item", "..."], "at the start of"),  # no ... before: the output starts there
        (["...", "collected 1 item"], "at the end of"),  # no ... after: the output ends there
        (["...", "1 passed in Ns", "collected 1 item", "..."], "in"),  # out of order
        (["...", "collected 2 items", "..."], "in"),  # a changed line
        (["header", "...", "test_x.py .   [100%]", "1 failed in Ns"], "at the end of"),
    ],
)
def test_a_drifted_excerpt_does_not(expected: list[str], why: str) -> None:
    mismatch = excerpt_mismatch(expected, OUTPUT)
    assert mismatch is not None
    assert f"not {why} the output" in mismatch


def test_what_changes_from_run_to_run_is_normalised(tmp_path: pathlib.Path) -> None:
    page = Page(tmp_path)
    page.hosts["https://staging.example.com"] = "https://127.0.0.1:41234"
    text = (
        f"against https://127.0.0.1:41234 and http://127.0.0.1:8080 in {tmp_path}/app.py\n"
        "=== 1 passed in 12.34s (0:00:12) ===  \n"
    )
    assert normalise(text, page) == [
        "against https://staging.example.com and http://127.0.0.1:PORT in DIR/app.py",
        "=== 1 passed in Ns ===",
    ]


PAGE = """# A page

<!-- doc-file: hello.py -->
```python
print("hello")
```

```console
$ python hello.py
hello
$ python -c 'print("failing"); raise SystemExit(3)'
failing
$ echo $?
3
$ true
```

<!-- not-run: an install step -->
```sh
pip install something
```

```sh
pytest --unmarked
```
"""


def test_a_page_is_run_and_its_unmarked_commands_are_found(tmp_path: pathlib.Path) -> None:
    source = tmp_path / "page.md"
    source.write_text(PAGE, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    page = Page(work)
    examples = examples_of(source)
    assert len(examples) == 2  # the file and the console block
    for example in examples:
        example.namespace["page"] = page
        example.evaluate()
    assert (work / "hello.py").read_text() == 'print("hello")\n'
    assert [p.split(" line ")[1] for p in unaccounted_commands(source)] == ["23, column 1"]
    source.write_text(PAGE.replace("hello\n$ python -c", "bye\n$ python -c"), encoding="utf-8")
    (drifted, console) = examples_of(source)
    for example in (drifted, console):
        example.namespace["page"] = page
    drifted.evaluate()
    with pytest.raises(AssertionError, match="these lines are not"):
        console.evaluate()


def test_an_output_block_is_checked_against_its_command(tmp_path: pathlib.Path) -> None:
    source = tmp_path / "page.md"
    text = (
        "<!-- doc-output-of: python -c 'print(\"E   ValueError: no\")' -->\n"
        "```text\nValueError: no\n```\n"
    )
    source.write_text(text, encoding="utf-8")
    (example,) = examples_of(source)
    example.namespace["page"] = Page(tmp_path)
    example.evaluate()  # anywhere in a line: after a traceback's "E   "
    source.write_text(text.replace("ValueError: no\n```", "ValueError: yes\n```"), "utf-8")
    (example,) = examples_of(source)
    example.namespace["page"] = Page(tmp_path)
    with pytest.raises(AssertionError, match="ValueError: yes"):
        example.evaluate()
