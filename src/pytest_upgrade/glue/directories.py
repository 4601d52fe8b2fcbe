"""Per-directory apps: a ``conftest.py`` overriding ``upgrade_app`` gets its own server.

pytest caches a session-scoped fixture once per definition, whatever the
fixtures it requested resolve to for later tests: the plugin's one
``upgrade_server`` would keep serving the app of the first test that asked
for it, and a directory whose ``conftest.py`` overrides ``upgrade_app`` (or
``upgrade_server_options``) would be tested against another directory's app,
or the other way round, depending on the run's order. So such a
``conftest.py`` gets the plugin's ``upgrade_server`` and ``upgrade_target``
defined in it too (unless it defines them itself): pytest then caches one of
each for that directory, as it caches the directory's ``upgrade_app``
(:mod:`pytest_upgrade.glue.served` shares a server between directories
serving the same app).

A module of its own, listed in ``plugin.pytest_plugins``.
"""

from __future__ import annotations

import types
from collections.abc import Generator
from typing import Any

import pytest

from .served import record_app

__all__: list[str] = []  # a pytest plugin: hooks only

# What a directory may override, and what then follows it into the directory.
_OVERRIDES = ("upgrade_app", "upgrade_server_options")
_FOLLOWING = ("upgrade_server", "upgrade_target")
_FIXTURES = "pytest_upgrade.glue.fixtures"


def _is_fixture(obj: object) -> bool:
    # pytest >= 8.4 wraps fixture functions (FixtureFunctionDefinition); 8.3 marks them.
    return hasattr(obj, "_fixture_function_marker") or hasattr(obj, "_pytestfixturefunction")


# tryfirst: pytest 8 reads a conftest's fixtures when the conftest is registered
# (pytest 9 when its directory is collected); the definitions must be there first.
@pytest.hookimpl(tryfirst=True)
def pytest_plugin_registered(
    plugin: object, plugin_name: str, manager: pytest.PytestPluginManager
) -> None:
    if not isinstance(plugin, types.ModuleType) or not str(plugin_name).endswith("conftest.py"):
        return
    if not any(_is_fixture(getattr(plugin, name, None)) for name in _OVERRIDES):
        return
    fixtures = manager.get_plugin(_FIXTURES)
    if fixtures is None:  # -p no:pytest_upgrade.glue.fixtures: nothing to follow
        return
    for name in _FOLLOWING:
        if not hasattr(plugin, name):
            setattr(plugin, name, getattr(fixtures, name))


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, object, object]:
    value = yield
    if fixturedef.argname == "upgrade_app":
        # Where each app comes from, for the error naming two of them.
        record_app(request.config, fixturedef, value)
    return value
