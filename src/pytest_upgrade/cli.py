"""The ``pytest-upgrade`` command (``python -m pytest_upgrade`` is the same command).

    pytest-upgrade check URL [URL ...] --require "h2 /v2" [OPTION ...] [-- PYTEST-ARG ...]
    pytest-upgrade render REPORT.json [--html PATH] [--markdown PATH]
    pytest-upgrade merge OUT.json IN.json [IN.json ...]     (and the other report tools)

``check`` runs pytest in this process with the plugin, on a private empty
directory with its own configuration file, so that none of the current
directory's ``conftest.py`` or ini file is picked up; ``-c FILE`` or
``--rootdir DIR`` ask for a project's configuration instead. Its exit code is
pytest's (docs/operators.md): 0 every requirement passed, 1 some failed,
2 interrupted, 4 usage error, 5 nothing to check.

``render`` renders a saved or merged JSON report (``--upgrade-report``) again,
with the renderers the plugin uses at the end of a run. The report tools that
work on JSON files only (``merge``, ``diff``) live in
:mod:`pytest_upgrade._report_commands`; commands this module does not know are
handed to it.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
from collections.abc import Callable, Sequence

__all__ = ["main"]

PROG = "pytest-upgrade"

# pytest's exit codes (pytest.ExitCode), without importing pytest for --help.
_USAGE_ERROR = 4

# pytest-asyncio (an extra, pytest-upgrade[asyncio]) warns in its
# pytest_configure at every run until its asyncio_default_fixture_loop_scope is
# set. ``check`` runs no async test, so that warning is only noise there.
_ASYNCIO_UNSET = r'The configuration option "asyncio_default_fixture_loop_scope" is unset'

# pytest's own short options that take their value as the next argument.
_PYTEST_VALUE_OPTIONS = frozenset({"-k", "-m", "-p", "-o", "-W", "-n"})
_VERBOSITY = frozenset({"--verbose", "--quiet", "--verbosity"})
# The arguments that ask for a project's configuration instead of a private one.
_CONFIG_OPTIONS = frozenset({"-c", "--config-file", "--rootdir"})


class _CommandError(Exception):
    """A command line ``check`` cannot run: one line, exit code 4."""


def upgrade_options() -> dict[str, bool]:
    """Every ``--upgrade-*`` option the plugin's modules declare, and whether it takes a value.

    Read from the modules' source (their ``addoption`` calls), not by importing
    them: a plugin module imported before pytest starts could not have its
    asserts rewritten, and pytest would warn about it at every run.
    """
    import ast  # noqa: PLC0415 (only for check)

    found: dict[str, bool] = {}
    package = pathlib.Path(__file__).parent
    for name in _plugin_modules():
        path = package.joinpath(*name.split(".")[1:]).with_suffix(".py")
        if not path.is_file():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "addoption"):
                continue
            actions = [k.value for k in node.keywords if k.arg == "action"]
            action = actions[0].value if actions and isinstance(actions[0], ast.Constant) else None
            for arg in node.args:
                if isinstance(arg, ast.Constant) and str(arg.value).startswith("--upgrade-"):
                    found[str(arg.value)] = action in {None, "store", "append"}
    return found


def _plugin_modules() -> list[str]:
    """The modules ``pytest_upgrade.plugin`` names in its ``pytest_plugins``."""
    import ast  # noqa: PLC0415 (only for check)

    source = pathlib.Path(__file__).with_name("plugin.py").read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytest_plugins" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            return [str(name) for name in value]
    return []


def _value(args: list[str], index: int, option: str) -> str:
    if index + 1 >= len(args):
        raise _CommandError(f"{option} needs a value")
    return args[index + 1]


def translate(argv: Sequence[str], options: dict[str, bool]) -> tuple[list[str], bool]:
    """``check``'s arguments as pytest arguments; and whether a configuration was asked for.

    A bare word is a target URL; ``--NAME`` is ``--upgrade-NAME`` when the
    plugin has that option (``--require``, ``--as-of``, ``--strict``...);
    every other option, and everything after ``--``, is pytest's, as given.
    """
    args = list(argv)
    out: list[str] = []
    configured = False
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            out += args[index + 1 :]
            break
        name, equals, value = arg.partition("=")
        long_name = name if name.startswith("--upgrade-") else "--upgrade-" + name[2:]
        if name.startswith("--") and long_name in options:
            if options[long_name] and not equals:
                value = _value(args, index, name)
                index += 1
            out.append(f"{long_name}={value}" if options[long_name] else long_name)
        elif arg.startswith("-"):
            configured = configured or name in _CONFIG_OPTIONS
            out.append(arg)
            if not equals and (name in _PYTEST_VALUE_OPTIONS or name in _CONFIG_OPTIONS):
                out.append(_value(args, index, name))
                index += 1
        elif arg.startswith(("https://", "http://")):
            out.append(f"--upgrade-target={arg}")
        else:
            raise _CommandError(
                f"{arg!r} is not an http:// or https:// URL (give pytest's own arguments"
                " as --option=value, or after --)"
            )
        index += 1
    return out, configured


def _quiet_asyncio() -> object:
    """A plugin for ``check`` alone that keeps pytest-asyncio's unset-scope warning quiet.

    Its ``pytest_configure`` runs first and adds a warnings filter for exactly
    that message, inside the context pytest runs configuration hooks in (and
    restores after them, pytest 8.3 and 9). Not ``-o ...=function``: that
    would override a project's value, and pytest 9 calls the key unknown where
    pytest-asyncio is absent or blocked; not ``-W``: pytest 8.3 does not apply
    it to configuration-time warnings.
    """
    import warnings  # noqa: PLC0415

    import pytest  # noqa: PLC0415

    class QuietAsyncio:
        @pytest.hookimpl(tryfirst=True)
        def pytest_configure(self) -> None:
            warnings.filterwarnings(
                "ignore", message=_ASYNCIO_UNSET, category=pytest.PytestDeprecationWarning
            )

    return QuietAsyncio()


def _check(argv: list[str]) -> int:
    if argv and argv[0] in {"-h", "--help"}:
        print(_CHECK_HELP.format(prog=PROG))
        return 0
    try:
        args, configured = translate(argv, upgrade_options())
    except _CommandError as exc:
        print(f"{PROG} check: {exc}", file=sys.stderr)
        return _USAGE_ERROR
    import pytest  # noqa: PLC0415 (not for --help)

    # Quiet about pytest's cache (it would be written into the directory run from).
    args = ["-p", "no:cacheprovider", *args]
    if not any(a in _VERBOSITY or a.startswith(("-v", "-q")) for a in args):
        # The compliance section and the failures; no progress lines, no
        # short summary (the section lists the same failures).
        args = ["-q", "-rN", *args]
    if configured:
        # Only the declared requirements: the project's own tests are not run.
        return int(pytest.main([*args, "upgrade-requirements"], plugins=[_quiet_asyncio()]))
    with tempfile.TemporaryDirectory(prefix="pytest-upgrade-check-") as scratch:
        ini = pathlib.Path(scratch, "pytest.ini")
        ini.write_text("[pytest]\n# written by pytest-upgrade check\n", encoding="utf-8")
        args = ["-c", str(ini), f"--rootdir={scratch}", *args, scratch]
        return int(pytest.main(args, plugins=[_quiet_asyncio()]))


_CHECK_HELP = """\
usage: {prog} check [URL ...] --require REQUIREMENT [OPTION ...] [-- PYTEST-ARG ...]

Check requirements against deployments, through pytest and pytest-upgrade, with
no configuration file: none of this directory's conftest.py or ini is read
unless -c FILE or --rootdir DIR asks for a project's configuration.

  URL                     a deployment's base URL (--upgrade-target); repeatable
  --require REQUIREMENT   "h2 /v2", "websocket /ws", "HTTP/1.1 /legacy after=2027-03-01"
  --NAME[=VALUE]          any of pytest-upgrade's options, with or without the
                          upgrade- prefix: --targets-file, --as-of, --strict,
                          --report, --html, --markdown, --app, --ca, --client-cert,
                          --header, --resolve...
  other options           pytest's own (-v, -x, --tb=short): give their values as
                          --option=value, or after --

exit codes (pytest's): 0 every requirement passed, 1 some failed,
2 interrupted, 4 usage error, 5 nothing to check"""


def _render(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} render",
        description="Render a saved or merged JSON report (--upgrade-report) again.",
    )
    parser.add_argument("report", metavar="REPORT.json", help="the report to render")
    parser.add_argument("--html", metavar="PATH", help="write it as one self-contained page")
    parser.add_argument("--markdown", metavar="PATH", help="write it as a Markdown summary")
    args = parser.parse_args(argv)
    if not (args.html or args.markdown):
        parser.error("nothing to write: give --html PATH and/or --markdown PATH")
    from .report.document import MergeError, merge_documents  # noqa: PLC0415
    from .report.output import ReportFileError, read_report, write_or_raise  # noqa: PLC0415

    try:
        # The one-report merge validates it and gives it the merged form.
        document = merge_documents([(args.report, read_report(args.report))])
        if args.html:
            from .report.html import render_html  # noqa: PLC0415 (only when asked for)

            write_or_raise("--html", args.html, render_html(document))
        if args.markdown:
            from .report.markdown import render_markdown  # noqa: PLC0415 (only when asked for)

            write_or_raise("--markdown", args.markdown, render_markdown(document))
    except (MergeError, ReportFileError) as exc:
        print(f"{PROG} render: {exc}", file=sys.stderr)
        return 2
    written = " and ".join(path for path in (args.html, args.markdown) if path)
    print(f"rendered {len(document['results'])} result(s) from {args.report} into {written}")
    return 0


COMMANDS: dict[str, tuple[Callable[[list[str]], int], str]] = {
    "check": (_check, "check requirements against deployments (pytest, in this process)"),
    "render": (_render, "render a saved or merged JSON report as HTML and/or Markdown"),
}


def _report_tools() -> list[tuple[str, str]]:
    """The commands of :mod:`pytest_upgrade._report_commands` (merge, diff), for the overview."""
    from . import _report_commands as tools  # noqa: PLC0415

    for action in tools._parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return [(a.dest, a.help or "") for a in action._choices_actions]
    return []


def _overview() -> str:
    rows = [(name, text) for name, (_, text) in COMMANDS.items()] + _report_tools()
    lines = [f"usage: {PROG} COMMAND [ARG ...]   ({PROG} COMMAND --help for one)", ""]
    lines += [f"  {name:<8} {text}" for name, text in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(_overview(), file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    if args[0] in COMMANDS:
        return COMMANDS[args[0]][0](args[1:])
    # The report tools (merge, diff) have their own parser.
    from . import _report_commands as tools  # noqa: PLC0415

    return tools.main(args)
