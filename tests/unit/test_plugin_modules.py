"""The plugin modules pytest imports through ``pytest_plugins`` are not imported before;
``report/`` imports no pytest; ``glue.keys`` holds only keys several modules read.

pytest rewrites the asserts of every module listed in ``pytest_plugins`` and
must import it itself; pytest 8.3 warns ("Module already imported so cannot
be rewritten"), an error under ``filterwarnings = error``, when an earlier
plugin module already imported it. Checked in a fresh interpreter, in the
order pytest imports them.
"""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest_upgrade

SCRIPT = """
import importlib
import sys

import pytest_upgrade.plugin as plugin

for name in plugin.pytest_plugins:
    if name in sys.modules:
        raise SystemExit(f"{name} was imported before pytest imports it")
    importlib.import_module(name)
"""


def test_each_plugin_module_is_first_imported_by_pytest() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_report_package_knows_no_pytest() -> None:
    # report/ renders and writes documents; what needs pytest (the session, its
    # exit status, the terminal) is glue's.
    report = pathlib.Path(pytest_upgrade.__file__).parent / "report"
    imported = {
        (path.name, name.split(".")[0])
        for path in report.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom) and not node.level
            else []
        )
    }
    assert {(file, name) for file, name in imported if name in {"pytest", "_pytest"}} == set()


def test_each_shared_key_is_read_by_several_modules() -> None:
    # glue.keys holds what several features read; a key one module uses lives there.
    from pytest_upgrade.glue import keys

    glue = pathlib.Path(keys.__file__).parent
    readers: dict[str, set[str]] = {name: set() for name in keys.__all__}
    for path in glue.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "keys" and node.level == 1:
                for alias in node.names:
                    readers[alias.name].add(path.stem)
    assert {name: sorted(found) for name, found in readers.items() if len(found) < 2} == {}
