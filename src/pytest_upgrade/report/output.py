"""Writing a report file: the one way every report (JSON, HTML, Markdown, the CI
step summary, ``python -m pytest_upgrade merge``, ``render`` and ``diff``) opens
its output path, and the one way the commands read a JSON report.

A path that cannot be written is never a traceback: :func:`write_output`
returns one line that names the option, the path and the cause in the words
of the system (``Not a directory`` when a component of the path is a file,
``Is a directory`` when the path is one), and the caller reports it.
"""

from __future__ import annotations

import errno
import json
import os
import pathlib

__all__ = ["ReportFileError", "read_report", "write_or_raise", "write_output"]


class ReportFileError(ValueError):
    """A report file that cannot be read or written; the message is the one-line cause."""


def read_report(path: str) -> object:
    """The JSON document in ``path``; ReportFileError says why it cannot be read."""
    try:
        text = pathlib.Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise ReportFileError(f"{path}: cannot read: {reason}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportFileError(f"{path}: not JSON (line {exc.lineno}: {exc.msg})") from None


def write_or_raise(option: str, path: str, text: str) -> None:
    """:func:`write_output`, for a command: ReportFileError when it cannot be written."""
    problem = write_output(option, pathlib.Path(path), text)
    if problem is not None:
        raise ReportFileError(problem)


def write_output(option: str, path: pathlib.Path, text: str, *, append: bool = False) -> str | None:
    """Write ``text`` to ``path``, creating its directories; None, or why it cannot be.

    ``append`` adds to the file (``GITHUB_STEP_SUMMARY``, which the CI runner
    creates) after a blank line, and creates no directory.
    """
    try:
        if not append:
            path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a" if append else "w", encoding="utf-8") as stream:
            stream.write(("\n" if append else "") + text)
    except OSError as exc:
        return f"{option}: cannot write {path}: {_cause(path, exc)}"
    return None


def _cause(path: pathlib.Path, exc: OSError) -> str:
    """The reason, as the system words it, for the path the user gave.

    ``mkdir`` of ``a-file/sub`` says "File exists" about ``a-file`` (it is
    there, but not as a directory): what the user needs to hear is that a
    component of the path is not a directory, and which.
    """
    if isinstance(exc, FileExistsError | NotADirectoryError):
        for parent in path.parents:
            if parent.exists() and not parent.is_dir():
                return f"{os.strerror(errno.ENOTDIR)} ({parent} is a file)"
    if isinstance(exc, IsADirectoryError) or path.is_dir():
        return os.strerror(errno.EISDIR)
    return exc.strerror or str(exc)
