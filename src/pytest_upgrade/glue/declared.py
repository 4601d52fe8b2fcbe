"""Declared requirements (``upgrade_requirements``, ``--upgrade-require``) as test items.

Which runs collect them, how their node ids given on the command line select
them, and where each was declared (the configuration file's line, shown as
its location like any test's ``FILE:LINE``).

* The ini option's requirements belong to the whole project: they are
  collected when the run's arguments name nothing (a bare ``pytest``, or
  ``testpaths``), the rootdir or the configuration file's directory, and not
  when they point at one test file, directory or node.
* ``--upgrade-require`` lines are asked for by the very command that runs
  them: they are always collected.
* An argument starting with ``upgrade-requirements`` (the declared items'
  node ids: ``"upgrade-requirements::test_requirement[h2 GET /v2/orders]"``,
  or the prefix alone) selects declared items; pytest never sees it as a path.
"""

from __future__ import annotations

import pathlib
import re
from collections.abc import Sequence
from typing import Any, cast

import pytest

from .. import _declared
from .._model import Requirement
from .._targets import Deployment
from .keys import ITEM_DEPLOYMENT, ITEM_NODE, ITEM_TARGET, ITEM_UNRESOLVED, MARKER, REQUIREMENTS
from .settings import SETTINGS

__all__ = [
    "NODEID",
    "declared_items",
    "ini_line_numbers",
    "stash_deployment",
    "take_declared_args",
]

NODEID = "upgrade-requirements"

# The node ids given on the command line, and whether the run's arguments
# select the whole project (see the module's docstring).
_SELECTED = pytest.StashKey[tuple[str, ...]]()
_PROJECT_WIDE = pytest.StashKey[bool]()
# Where one declared item was written: (file, 0-based line or None).
_DECLARED_AT = pytest.StashKey[tuple[pathlib.Path, int | None]]()


class _DeclaredModule(pytest.Module):
    """The module behind declarative requirements, already imported with the plugin."""

    def _getobj(self) -> Any:
        return _declared


class _DeclaredFunction(pytest.Function):
    """A declared requirement's item, located at the line that declared it."""

    __slots__ = ()

    def reportinfo(self) -> tuple[pathlib.Path, int | None, str]:
        path, lineno = self.stash.get(_DECLARED_AT, (self.path, None))
        return path, lineno, self.getmodpath()


def _anchor(config: pytest.Config) -> pathlib.Path:
    """Where declared requirements live: the configuration file, else the rootdir.

    pytest scopes conftest hooks by a node's path, so items placed at the
    plugin's own file (in site-packages) would escape the project's
    ``conftest.py`` hooks, though not its fixtures.
    """
    return config.inipath or config.rootpath


def _is_declared_arg(arg: str) -> bool:
    return arg == NODEID or arg.startswith(NODEID + "::")


def take_declared_args(config: pytest.Config) -> None:
    """Take the declared items' node ids out of the arguments pytest collects.

    Called before pytest resolves its arguments (``pytest_collection``), on
    every process that collects (each pytest-xdist worker gets the same
    arguments). A directory of that name, if there is one, stays a path.
    """
    invocation = config.invocation_params.dir
    selected = tuple(
        arg
        for arg in config.args
        if _is_declared_arg(arg) and not (invocation / arg.split("::")[0]).exists()
    )
    config.stash[_PROJECT_WIDE] = _project_wide(config)
    config.stash[_SELECTED] = selected
    if selected:
        config.args[:] = [arg for arg in config.args if arg not in selected]


def _project_wide(config: pytest.Config) -> bool:
    if config.args_source is not pytest.Config.ArgsSource.ARGS:
        return True  # no arguments: testpaths, or the invocation directory
    anchors = {config.rootpath.resolve()}
    if config.inipath is not None:
        anchors.add(config.inipath.parent.resolve())
    invocation = config.invocation_params.dir
    return any(
        "::" not in arg and (invocation / arg).resolve() in anchors
        for arg in config.args
        if not _is_declared_arg(arg)
    )


def _wanted(config: pytest.Config, nodeid: str, requirement: Requirement) -> bool:
    settings = config.stash[SETTINGS]
    if config.stash.get(_PROJECT_WIDE, True) or requirement in settings.declared_on_command_line:
        return True
    return any(
        nodeid == arg or nodeid.startswith((arg + "::", arg + "["))
        for arg in config.stash.get(_SELECTED, ())
    )


def declared_items(session: pytest.Session) -> list[pytest.Item]:
    """The declared requirements this run collects, one item per (deployment, requirement)."""
    config = session.config
    module = _DeclaredModule.from_parent(session, path=_anchor(config), nodeid=NODEID)
    locations = _locations(config)
    items: list[pytest.Item] = []
    for node in module.collect():
        if not isinstance(node, pytest.Function):
            continue
        case = node.callspec.params["upgrade_declared"]
        deployment, requirement = cast(tuple[Deployment | None, Requirement], case)
        if not _wanted(config, node.nodeid, requirement):
            continue
        node.__class__ = _DeclaredFunction
        node.stash[_DECLARED_AT] = locations.get(requirement, (_anchor(config), None))
        node.stash[REQUIREMENTS] = (requirement,)
        # `-m requires_upgrade` selects declared requirements as it does marked tests.
        node.add_marker(_marker(requirement))
        if deployment is not None:
            stash_deployment(node, deployment)
        items.append(node)
        node.ihook.pytest_itemcollected(item=node)
    # Reported like any collected module, so "collected N items" counts them.
    report = pytest.CollectReport(
        module.nodeid, "passed", None, list[pytest.Item | pytest.Collector](items)
    )
    session.ihook.pytest_collectreport(report=report)
    return items


def stash_deployment(item: pytest.Item, deployment: Deployment) -> None:
    """Give ``item`` its deployment's node: the target, the names its reports carry, and
    why its name has no address when it has none."""
    item.stash[ITEM_TARGET] = deployment.target
    item.stash[ITEM_DEPLOYMENT] = deployment.name
    if deployment.node is not None:
        item.stash[ITEM_NODE] = deployment.node
    if deployment.unresolved is not None:
        item.stash[ITEM_UNRESOLVED] = deployment.unresolved


def _marker(requirement: Requirement) -> pytest.MarkDecorator:
    """The marker a test would carry for the same requirement.

    Without its headers: a marker's arguments reach other plugins' reports
    (Allure makes tags of them), and a header may hold a credential.
    """
    kwargs: dict[str, Any] = {"path": requirement.path, "method": requirement.method}
    if requirement.after is not None:
        kwargs["after"] = requirement.after.isoformat()
    marker: pytest.MarkDecorator = getattr(pytest.mark, MARKER)
    return marker(requirement.protocol, **kwargs)


def _locations(config: pytest.Config) -> dict[Requirement, tuple[pathlib.Path, int | None]]:
    """Each ini-declared requirement's file and 0-based line (pytest's ``reportinfo``)."""
    settings = config.stash[SETTINGS]
    if config.inipath is None or not settings.declared_at:
        return {}
    values: list[str] = config.getini("upgrade_requirements")
    numbers = ini_line_numbers(config.inipath, "upgrade_requirements", values)
    return {
        requirement: (config.inipath, None if line is None else line - 1)
        for requirement, index in settings.declared_at.items()
        for line in [numbers[index - 1] if index <= len(numbers) else None]
    }


def ini_line_numbers(path: pathlib.Path, key: str, values: Sequence[str]) -> list[int | None]:
    """The 1-based line of ``path`` where each value of the list option ``key`` is written.

    Handles the ini forms (``key =`` with the values on it and the following
    lines) and TOML arrays (quoted strings, on one line or several); a value
    not found is None. Values are looked for in order, from the key's line on.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return [None] * len(values)
    key_line = re.compile(rf"\s*{re.escape(key)}\s*[=:]\s*(.*)$")
    start = next((i for i, line in enumerate(lines) if key_line.match(line)), None)
    if start is None:
        return [None] * len(values)
    found: list[int | None] = []
    cursor = start
    for value in values:
        written = (i for i in range(cursor, len(lines)) if _writes(lines[i], value, key_line))
        at = next(written, None)
        found.append(None if at is None else at + 1)
        cursor = cursor if at is None else at
    return found


def _writes(line: str, value: str, key_line: re.Pattern[str]) -> bool:
    if line.strip() == value or f'"{value}"' in line or f"'{value}'" in line:
        return True
    match = key_line.match(line)
    return match is not None and match.group(1).strip() == value
