"""The session's bundled servers: one per distinct app and server options.

A ``conftest.py`` below the rootdir that overrides ``upgrade_app`` gets
``upgrade_server`` and ``upgrade_target`` definitions of its own
(:mod:`pytest_upgrade.glue.directories`), so pytest caches a server per
directory's app. Two directories serving the same app object with the same
options share one server: the first definition to start it owns it (and stops
it at the end of the session), the others are handed it.

An ``upgrade_app`` overridden where no server definition can follow it (a
test module, a class) would be served by another directory's server without
a word: the test errors instead, naming both definitions.
"""

from __future__ import annotations

import inspect
import pathlib
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..server.bundled import UpgradeServer

__all__ = [
    "add_server",
    "misserved",
    "record_app",
    "remove_server",
    "served_app",
    "shared_server",
]

# (id of the app, the options as text) -> (the app, its server). The app is
# kept so that its id cannot be reused while the server lives.
_SERVERS = pytest.StashKey[dict[tuple[int, str], tuple[object, "UpgradeServer"]]]()
# id of an app -> (the app, where the upgrade_app fixture returning it is defined).
_APPS = pytest.StashKey[dict[int, tuple[object, str]]]()


def _key(app: object, options: dict[str, Any]) -> tuple[int, str]:
    return id(app), repr(sorted(options.items()))


def record_app(config: pytest.Config, fixturedef: pytest.FixtureDef[Any], app: object) -> None:
    """Remember where the ``upgrade_app`` definition that returned ``app`` is written."""
    config.stash.setdefault(_APPS, {})[id(app)] = (app, _where(config, fixturedef.func))


def _where(config: pytest.Config, func: object) -> str:
    try:
        path = pathlib.Path(inspect.getsourcefile(func) or "")  # type: ignore[arg-type]
        line = inspect.getsourcelines(func)[1]  # type: ignore[arg-type]
    except (OSError, TypeError):
        return repr(func)
    try:
        shown = path.resolve().relative_to(config.rootpath.resolve())
    except ValueError:
        shown = path
    return f"{shown.as_posix()}:{line}"


def _app_where(config: pytest.Config, app: object) -> str:
    recorded = config.stash.get(_APPS, {}).get(id(app))
    return recorded[1] if recorded is not None else "--upgrade-app"


def shared_server(
    config: pytest.Config, app: object, options: dict[str, Any]
) -> UpgradeServer | None:
    """The server already running this app with these options, if any."""
    entry = config.stash.get(_SERVERS, {}).get(_key(app, options))
    return entry[1] if entry is not None else None


def add_server(
    config: pytest.Config, app: object, options: dict[str, Any], server: UpgradeServer
) -> None:
    config.stash.setdefault(_SERVERS, {})[_key(app, options)] = (app, server)


def remove_server(config: pytest.Config, server: UpgradeServer) -> None:
    servers = config.stash.get(_SERVERS, {})
    for key, (_, running) in list(servers.items()):
        if running is server:
            del servers[key]


def served_app(config: pytest.Config, server: UpgradeServer) -> object | None:
    """The app this plugin started ``server`` for; None for a server of the user's making."""
    served = [a for a, running in config.stash.get(_SERVERS, {}).values() if running is server]
    return served[0] if served else None


def misserved(config: pytest.Config, server: UpgradeServer, app: object) -> str | None:
    """Why ``server`` cannot test ``app`` (it serves another one), or None when it serves it."""
    served = served_app(config, server)
    if served is None or served is app:
        return None
    return (
        f"the bundled server serves the upgrade_app of {_app_where(config, served)}, but this"
        f" test's upgrade_app is {_app_where(config, app)}: override upgrade_app in a"
        " conftest.py (each directory's conftest.py gets a bundled server for its app)"
    )
