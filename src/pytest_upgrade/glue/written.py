"""The lines a run declares, read where they were written: the deployments
(``--upgrade-target``, a targets file, ``upgrade_targets``) and the requirements
(``upgrade_requirements``, ``--upgrade-require``). Each error names where its line
was written, and never repeats a credential it holds; :mod:`.settings` puts them
together.
"""

from __future__ import annotations

import pathlib
import re
from collections.abc import Iterable, Mapping

import pytest

from .._credentials import SENSITIVE, check_environment
from .._model import Requirement
from .._requirements import parse_declared
from .._targets import TargetLine, group_urls, parse_target_line

__all__ = ["declared_requirements", "target_lines"]


def target_lines(
    urls: list[str],
    targets_file: str | None,
    ini_lines: list[str],
    *,
    base_dir: pathlib.Path,
    environ: Mapping[str, str],
) -> list[TargetLine]:
    """Every deployment as written: the target URLs, then the targets file's and the
    ini's lines (a ValueError names the bad one)."""
    try:
        lines = [TargetLine(group) for group in group_urls(urls)]
    except ValueError as exc:
        raise ValueError(f"--upgrade-target: {exc}") from None
    if targets_file:
        from_file = _parse_lines(_read_targets_file(targets_file), environ)
        if not from_file:
            # An empty list would silently test the bundled server instead.
            raise ValueError(f"--upgrade-targets-file: {targets_file} lists no deployment")
        lines += from_file
    lines += _parse_lines(
        ((f"upgrade_targets line {n}", line, base_dir) for n, line in enumerate(ini_lines, 1)),
        environ,
    )
    return lines


def _read_targets_file(path: str) -> list[tuple[str, str, pathlib.Path]]:
    """The file's lines, each with its FILE:LINE and the directory ``ca=`` paths start from."""
    file = pathlib.Path(path)
    try:
        # utf-8-sig: a UTF-8 byte order mark (Windows editors write one) is not a token.
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise ValueError(f"--upgrade-targets-file: cannot read {path}: {reason}") from None
    return [(f"{path}:{n}", line, file.parent) for n, line in enumerate(text.splitlines(), 1)]


def _parse_lines(
    sources: Iterable[tuple[str, str, pathlib.Path]], environ: Mapping[str, str]
) -> list[TargetLine]:
    lines: list[TargetLine] = []
    for where, line, base_dir in sources:
        try:
            parsed = parse_target_line(line, where=where, base_dir=base_dir)
            if parsed is not None:
                check_environment(parsed.headers, environ)
        except ValueError as exc:
            raise ValueError(f"{where}: {_shown_line(line)}: {exc}") from None
        if parsed is not None:
            lines.append(parsed)
    return lines


def declared_requirements(
    ini_lines: list[str], command_line: list[str], origin: str | None, environ: Mapping[str, str]
) -> tuple[dict[Requirement, int], list[Requirement]]:
    """The ini lines' requirements with their line numbers, then the command line's."""
    in_ini: dict[Requirement, int] = {}
    for n, line in enumerate(ini_lines, 1):
        requirement = _declared(f"upgrade_requirements line {n}", line, origin, environ)
        if requirement is not None:
            in_ini.setdefault(requirement, n)
    on_command_line: list[Requirement] = []
    for line in command_line:
        requirement = _declared("--upgrade-require", line, origin, environ)
        if requirement is not None and requirement not in on_command_line:
            on_command_line.append(requirement)
    return in_ini, on_command_line


def _declared(
    where: str, line: str, origin: str | None, environ: Mapping[str, str]
) -> Requirement | None:
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    try:
        requirement = parse_declared(line, default_origin=origin)
        check_environment(requirement.headers, environ)
    except ValueError as exc:
        raise pytest.UsageError(f"{where}: {_shown_line(line)}: {exc}") from None
    return requirement


def _shown_line(line: str) -> str:
    """A declared line for an error message: a credential in it is not repeated
    (a header's value, a URL's userinfo: a proxy's password)."""
    if any(name in line.lower() for name in SENSITIVE):
        return repr(line.split(maxsplit=1)[0] + " …")
    return repr(_USERINFO_RE.sub(r"\1***@", line.strip()))


_USERINFO_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@")
