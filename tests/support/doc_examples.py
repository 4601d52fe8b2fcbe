"""The documentation's runnable examples, run as a reader follows them, with Sybil.

A page marks up what a reader is told to do; the markup is invisible on the
rendered site:

- ``<!-- doc-file: PATH -->`` right before a fenced block: the block is a file
  the reader writes (PATH relative to the page's directory);
  ``<!-- doc-append: PATH -->``: lines the reader adds at the end of one.
- a ``console`` block: each ``$ COMMAND`` (a trailing ``\\`` continues it) is
  run by bash in the page's directory, the development venv's ``bin`` first on
  ``PATH`` (so ``pytest`` and ``python`` are the ones under test), and the lines
  after it are the output it must print. In the expected output a line ``...``
  stands for lines left out, ``…`` for part of a line; the output is compared
  after normalising what changes from run to run (ports, timings). Without a
  ``...`` at its start (its end), the excerpt must be the output's start
  (end); a command shown without output must print nothing and succeed.
  ``$ echo $?`` prints the previous command's exit status; what a command
  exports, the next one sees.
- ``<!-- doc-output-of: COMMAND -->`` right before a fenced block: the block
  shows lines of what COMMAND prints (run as in a console block, where the
  page has not shown the command itself): each must be in the output, in
  order.
- ``<!-- invisible-code-block: python -->``: a step the page gives in words
  (edit a file, start a server), run in the page's namespace, where ``page``
  is the :class:`Page` (its directory, files, servers).
- ``<!-- not-run: REASON -->`` right before a ``sh`` or ``console`` block: a
  command the tests do not run, with the reason (an install step, a host of
  the reader's). A test fails on a command block that is neither run nor
  marked, so that a new command cannot slip in untested.

Each page runs in a fresh temporary directory (or, with
``page.use_repository()``, the repository, read-only), its examples in order.

A page about a live deployment gets one the way the integration tests start
one: ``page.serve("staging.example.com", app)`` runs ``app`` under the bundled
server (hypercorn on loopback, a throw-away CA that the commands' TLS trusts
through ``SSL_CERT_FILE``); in the page's commands ``https://staging.example.com``
and ``http://staging.example.com`` then stand for its URLs, and in their
output the URLs stand for the names again.
"""

from __future__ import annotations

import os
import pathlib
import re
import shlex
import subprocess
import sys
from collections.abc import Iterable, Iterator
from importlib.metadata import entry_points
from typing import Any

from sybil import Document, Example, Region, Sybil
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser
from sybil.parsers.markdown.lexers import DirectiveInHTMLCommentLexer, FencedCodeBlockLexer

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
COMMAND_LANGUAGES = ("sh", "console", "bash", "shell")
# Bound on one command: a loaded 2-core machine runs several pytest sessions at once.
COMMAND_TIMEOUT = 300.0


# The pytest plugins a reader's venv has: pytest-upgrade's and its dependencies'.
# pytest-asyncio is an extra (pytest-upgrade[asyncio]), not a dependency.
_READERS_PLUGINS = {"upgrade", "anyio"}
_DEVELOPMENT_PLUGINS = sorted({e.name for e in entry_points(group="pytest11")} - _READERS_PLUGINS)
_DEMO_CONFTEST = """import pytest

from app import app


@pytest.fixture(scope="session")
def upgrade_app():
    return app
"""
_QUIET_INI = "[pytest]\n"


class Page:
    """Where a page's examples run, and what they share."""

    def __init__(self, directory: pathlib.Path) -> None:
        self.dir = directory
        self.status = 0  # the exit status of the last command
        self.env = dict(os.environ)
        bindir = str(pathlib.Path(sys.executable).parent)
        # What a terminal of 80 columns prints, without colour or cache files.
        self.managed = {"COLUMNS": "80", "PY_COLORS": "0", "NO_COLOR": "1"}
        self.managed["PYTHONDONTWRITEBYTECODE"] = "1"
        self.managed["PATH"] = os.pathsep.join([bindir, self.env.get("PATH", "")])
        # A reader's venv has pytest-upgrade's own plugins (and anyio's, with httpx), not
        # the development tools' (and each costs start-up time on every command).
        self.managed["PYTEST_ADDOPTS"] = " ".join(
            f"-p no:{name}" for name in ("cacheprovider", *_DEVELOPMENT_PLUGINS)
        )
        self.env.update(self.managed)
        for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "GITHUB_STEP_SUMMARY"):
            self.env.pop(name, None)
        self._cleanups: list[Any] = []
        self.hosts: dict[str, str] = {}  # a page's URL -> the URL it stands for here
        # The shell's exported variables between commands, outside the page's directory.
        self.state_file = directory.parent / f".{directory.name}-shell-state"

    def use_repository(self) -> None:
        """Run the page's commands in the repository (pages about its examples)."""
        self.dir = ROOT

    def use_demo_app(self) -> None:
        """The app of ``examples/demo`` as ``upgrade_app`` (it meets every how-to's requirement)."""
        (self.dir / "app.py").write_bytes((ROOT / "examples" / "demo" / "app.py").read_bytes())
        (self.dir / "conftest.py").write_text(_DEMO_CONFTEST, encoding="utf-8")
        (self.dir / "pytest.ini").write_text(_QUIET_INI, encoding="utf-8")

    def link(self, name: str) -> None:
        """The repository's ``name`` (``examples``) in the page's directory, as a symlink."""
        (self.dir / name).symlink_to(ROOT / name, target_is_directory=(ROOT / name).is_dir())

    def edit(self, name: str, old: str, new: str) -> None:
        """Change ``old`` (which must occur once) to ``new`` in the file ``name``."""
        path = self.dir / name
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{name}: {old!r} occurs {text.count(old)} time(s)"
        path.write_text(text.replace(old, new), encoding="utf-8")

    def serve(self, host: str, app: object, *, ca_file: str | None = None, **options: Any) -> None:
        """A live deployment named ``host`` in the page: ``app`` under the bundled server.

        Its CA is trusted as the system's (``SSL_CERT_FILE``), or, with ``ca_file``,
        only written to that file of the page: a private CA.
        """
        from pytest_upgrade import BundledCA, UpgradeServer

        ca = BundledCA()
        self.on_exit(ca.close)
        server = UpgradeServer(app, ca=ca, **options)
        server.start()
        self.on_exit(server.stop)
        if ca_file is None:
            self.managed["SSL_CERT_FILE"] = self.env["SSL_CERT_FILE"] = str(ca.ca_pem)
        else:
            (self.dir / ca_file).write_bytes(pathlib.Path(ca.ca_pem).read_bytes())
        self.hosts[f"https://{host}"] = server.https_url
        self.hosts[f"http://{host}"] = server.http_url

    def localise(self, command: str) -> str:
        for name, url in self.hosts.items():
            command = re.sub(rf"{re.escape(name)}\b", url, command)
        return command

    def on_exit(self, cleanup: Any) -> None:
        self._cleanups.append(cleanup)

    def close(self) -> None:
        while self._cleanups:
            self._cleanups.pop()()
        self.state_file.unlink(missing_ok=True)


def _adjacent(between: str) -> bool:
    """Only the end of a comment (the lexer's region stops before it) and blank space."""
    return re.fullmatch(r"\s*(?:--+>)?\s*", between) is not None


# -- files -------------------------------------------------------------------------


class FileParser:
    """``<!-- doc-file: PATH -->`` (or ``doc-append``) and the fenced block right after it."""

    def __init__(self) -> None:
        self.directives = DirectiveInHTMLCommentLexer(
            directive=r"doc-(?:file|append)", arguments=r"\S+"
        )
        self.fences = FencedCodeBlockLexer(language=r"[\w+-]*")

    def __call__(self, document: Document) -> Iterable[Region]:
        fences = list(self.fences(document))
        for directive in self.directives(document):
            following = [f for f in fences if f.start >= directive.end]
            assert following, f"{document.path}: doc-file at {directive.start} has no block"
            fence = following[0]
            between = document.text[directive.end : fence.start]
            assert _adjacent(between), f"{document.path}: doc-file must precede its block"
            name = directive.lexemes["arguments"]
            source = str(fence.lexemes["source"])
            append = directive.lexemes["directive"] == "doc-append"
            yield Region(directive.start, fence.end, (name, source, append), _write_file)


def _write_file(example: Example) -> None:
    name, source, append = example.parsed
    page: Page = example.namespace["page"]
    path = page.dir / name
    if append:
        assert path.exists(), f"{name} is appended to before it is written"
        source = path.read_text(encoding="utf-8") + "\n\n" + source
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")


class OutputOfParser(FileParser):
    """``<!-- doc-output-of: COMMAND -->`` and the block of the lines it prints."""

    def __init__(self) -> None:
        super().__init__()
        self.directives = DirectiveInHTMLCommentLexer(directive="doc-output-of", arguments=".+?")

    def __call__(self, document: Document) -> Iterable[Region]:
        for region in super().__call__(document):
            command, source, _ = region.parsed
            lines = [line for line in source.splitlines() if line.strip()]
            # Each line anywhere in a line of the output (a traceback's "E   " before it).
            expected = ["...", *(x for line in lines for x in ("…" + line, "..."))]
            region.parsed, region.evaluator = (command, expected), _run_output_of
            yield region


def _run_output_of(example: Example) -> None:
    command, expected = example.parsed
    _run(example.namespace["page"], command, expected)


# -- commands ----------------------------------------------------------------------


def _commands(source: str) -> Iterator[tuple[str, list[str]]]:
    """(command, expected output lines) for each ``$`` line of a console block."""
    command: list[str] | None = None
    expected: list[str] = []
    continued = False
    for line in source.splitlines():
        if continued and command is not None:
            command.append(line)
            continued = line.endswith("\\")
        elif line.startswith("$ "):
            if command is not None:
                yield "\n".join(command), expected
            command, expected = [line[2:]], []
            continued = line.endswith("\\")
        elif command is not None:
            expected.append(line)
    if command is not None:
        yield "\n".join(command), expected


def normalise(text: str, page: Page) -> list[str]:
    """Output lines without what changes from run to run."""
    text = text.replace(str(page.dir), "DIR")
    for name, url in page.hosts.items():
        text = re.sub(rf"{re.escape(url)}\b", name, text)
    text = re.sub(r"\b(127\.0\.0\.1|localhost|\[::1\]):\d+", r"\1:PORT", text)
    text = re.sub(r" in \d+(?:\.\d+)?s(?: \(\d+:\d\d:\d\d\))?", " in Ns", text)
    return [line.rstrip() for line in text.splitlines()]


def _line_pattern(line: str) -> re.Pattern[str]:
    return re.compile(".*?".join(re.escape(part) for part in line.rstrip().split("…")))


def _is_gap(line: str) -> bool:
    return line.strip() in ("...", "…")


def excerpt_mismatch(expected: list[str], actual: list[str]) -> str | None:
    """Why ``expected`` (with ``...`` gaps) is not an excerpt of ``actual``, or None."""
    while expected and not expected[-1].strip():
        expected = expected[:-1]
    while actual and not actual[-1].strip():
        actual = actual[:-1]
    chunks: list[list[str]] = [[]]
    for line in expected:
        if _is_gap(line):
            chunks.append([])
        else:
            chunks[-1].append(line)
    anchored_end = bool(expected) and not _is_gap(expected[-1])
    position = 0
    for number, chunk in enumerate(chunks):
        if not chunk:
            continue
        patterns = [_line_pattern(line) for line in chunk]
        first = number == 0
        last = number == len(chunks) - 1 and anchored_end
        if last:
            starts: Iterable[int] = [len(actual) - len(chunk)]
        else:
            starts = [0] if first else range(position, len(actual))
        found = next(
            (
                start
                for start in starts
                if start >= position
                and all(
                    start + i < len(actual) and pattern.fullmatch(actual[start + i])
                    for i, pattern in enumerate(patterns)
                )
            ),
            None,
        )
        if found is None:
            where = "at the end of" if last else "at the start of" if first else "in"
            return f"these lines are not {where} the output, in order:\n" + "\n".join(chunk)
        position = found + len(chunk)
    return None


def _run_console(example: Example) -> None:
    page: Page = example.namespace["page"]
    for command, expected in _commands(str(example.parsed)):
        _run(page, command, expected)


_LOOPBACK = {"127.0.0.1", "localhost", "[::1]"}


def _foreign_hosts(command: str) -> list[str]:
    """Hosts a command names in a URL that are not loopback (the tests never leave it)."""
    # A URL's userinfo (a proxy's USER:PASSWORD@) is not its host.
    hosts = re.findall(r"\b(?:https?|wss?)://(?:[^/@\s'\"]*@)?(\[[^\]]*\]|[^/:\s'\"]+)", command)
    return sorted({host for host in hosts if host not in _LOOPBACK})


def _run(page: Page, command: str, expected: list[str]) -> None:
    """Run ``command`` as the reader would, and compare its output with ``expected``."""
    local = page.localise(command)
    foreign = _foreign_hosts(local)
    assert not foreign, (
        f"$ {command}\nnames {', '.join(foreign)}, which is not served here: serve it with"
        " page.serve(...) in an invisible block, or mark the block <!-- not-run: REASON -->"
    )
    # Each command runs in its own bash; what one exports, the next sees (export -p).
    state = page.state_file
    # The page's own settings (PATH, a served CA) win over what was exported before.
    managed = " ".join(f"{name}={shlex.quote(value)}" for name, value in page.managed.items())
    script = (
        f"source {state} 2>/dev/null; export {managed}; (exit {page.status}); {local}\n"
        f"status=$?; export -p > {state}; exit $status"
    )
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=page.dir,
        env=page.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    page.status = result.returncode
    actual = normalise(result.stdout, page)
    if expected:
        mismatch = excerpt_mismatch(normalise("\n".join(expected), page), actual)
    elif any(line.strip() for line in actual) or result.returncode:
        # Shown without output: it prints nothing, and succeeds.
        mismatch = "the page shows no output, and no failure"
    else:
        mismatch = None
    if mismatch is not None:
        raise AssertionError(
            f"$ {command}\n{mismatch}\n\n--- the output (exit status {result.returncode},"
            " normalised) ---\n" + "\n".join(actual)
        )


class ConsoleParser(CodeBlockParser):
    language = "console"

    def evaluate(self, example: Example) -> None:
        _run_console(example)


# -- steps given in words ----------------------------------------------------------


class InvisiblePythonParser(PythonCodeBlockParser):
    """Only ``<!-- invisible-code-block: python -->``: the visible blocks are snippets."""

    def __call__(self, document: Document) -> Iterable[Region]:
        for region in super().__call__(document):
            if region.lexemes.get("directive"):
                yield region


# -- commands that are not run -----------------------------------------------------

NOT_RUN = DirectiveInHTMLCommentLexer(directive="not-run", arguments=r".+?")
COMMAND_FENCES = FencedCodeBlockLexer(language="|".join(COMMAND_LANGUAGES))


def unaccounted_commands(path: pathlib.Path) -> list[str]:
    """Command blocks of a page that are neither run (console) nor marked not-run."""
    document = Document(path.read_text(encoding="utf-8"), str(path))
    marks = [region.end for region in NOT_RUN(document) if region.lexemes["arguments"].strip()]
    problems = []
    for fence in COMMAND_FENCES(document):
        marked = any(_adjacent(document.text[end : fence.start]) for end in marks)
        if fence.lexemes["language"] != "console" and not marked:
            name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            problems.append(f"{name} {document.line_column(fence.start)}")
    return problems


SYBIL = Sybil(parsers=[FileParser(), OutputOfParser(), ConsoleParser(), InvisiblePythonParser()])


def examples_of(path: pathlib.Path) -> list[Example]:
    return list(SYBIL.parse(path))
