"""Collection: the ``requires_upgrade`` marker, ``--upgrade-require`` and the
``upgrade_requirements`` ini lines; requirements from markers and declarative lines
become items."""

from __future__ import annotations

import contextlib
import importlib
import os

import pytest

from .. import _declared
from .._credentials import check_environment
from .._model import Requirement
from .._requirements import parse_requirement
from .._targets import Deployment
from ..protocols import TOKENS
from .declared import NODEID, declared_items, stash_deployment, take_declared_args
from .keys import INVALID, MARKER, NO_REQUIREMENT, REQUIREMENTS
from .settings import SETTINGS
from .workers import is_xdist_worker

__all__ = ["import_server_dependencies"]  # and hooks


# The parameter that gives each test of a fleet run its deployment.
_DEPLOYMENT = "upgrade_deployment"


def _one_of(names: tuple[str, ...]) -> str:
    return ", ".join(map(repr, names[:-1])) + f" or {names[-1]!r}"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("upgrade")
    group.addoption(
        "--upgrade-require",
        metavar="REQUIREMENT",
        action="append",
        default=[],
        help='a requirement to check, as in upgrade_requirements: "h2 /v2/orders",'
        ' "HTTP/1.1 /legacy after=2027-03-01" (repeatable).',
    )
    parser.addini(
        "upgrade_requirements",
        "requirements to check, one per line: PROTOCOL [PATH] [method=M] [after=YYYY-MM-DD]"
        ' [header="Name: value"]; each becomes a test.',
        type="linelist",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(protocol, path='/', method='GET', headers=None, after=None, origin=None):"
        " the legacy"
        " request must get 426 Upgrade Required and the upgraded one must succeed"
        f" (pytest-upgrade; protocol: {_one_of(TOKENS)}).",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    settings = metafunc.config.stash[SETTINGS]
    if metafunc.function is _declared.test_requirement:
        # One item per (node, requirement), deployment by deployment; the bundled
        # server (no deployment) and a single deployment on one address keep the
        # ids they had before fleets and nodes: "h2 GET /v2/orders".
        deployments: tuple[Deployment | None, ...] = settings.tested or (None,)
        cases = [(d, r) for d in deployments for r in settings.declared]
        ids = [
            (f"{d.name} " if d is not None and settings.is_fleet else "")
            + r.describe(deadline=False)
            + (f" @{d.node}" if d is not None and d.node is not None else "")
            for d, r in cases
        ]
        metafunc.parametrize("upgrade_declared", cases, ids=ids)
    elif (settings.is_fleet or settings.several_nodes) and any(
        metafunc.definition.iter_markers(MARKER)
    ):
        # A marked test runs once against each node of each deployment, its id
        # naming the deployment of a fleet and the node of several
        # ("test_orders[staging.example.com]", "test_orders[staging @192.0.2.11]").
        if _DEPLOYMENT not in metafunc.fixturenames:
            metafunc.fixturenames.append(_DEPLOYMENT)
        names = [
            " ".join(([d.name] if settings.is_fleet else []) + ([f"@{d.node}"] if d.node else []))
            for d in settings.tested
        ]
        metafunc.parametrize(_DEPLOYMENT, settings.tested, ids=names)


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> None:
    # Before pytest resolves its arguments: a declared item's node id is not a path.
    take_declared_args(session.config)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    settings = config.stash[SETTINGS]
    if settings.declared:
        # Declared requirements are tests even where no test file exists.
        items.extend(declared_items(session))
    problems: list[tuple[pytest.Item, str]] = []
    for item in items:
        if item.stash.get(REQUIREMENTS, None):
            continue  # a declared requirement
        callspec = getattr(item, "callspec", None)
        if callspec is not None and _DEPLOYMENT in callspec.params:
            stash_deployment(item, callspec.params[_DEPLOYMENT])
        requirements: list[Requirement] = []
        for marker in item.iter_markers(MARKER):
            try:
                kwargs = {"origin": settings.origin, **marker.kwargs}
                requirement = parse_requirement(marker.args, kwargs)
                check_environment(requirement.headers, os.environ)
            except ValueError as exc:
                problems.append((item, str(exc)))
                continue
            if requirement not in requirements:
                requirements.append(requirement)
        if requirements:
            # iter_markers yields the closest marker first; report in written order.
            item.stash[REQUIREMENTS] = tuple(reversed(requirements))
    if not problems:
        _require_a_requirement(config, items)
        _prepare_bundled_server(config, items)
        return
    if is_xdist_worker(config):
        # A worker cannot end the session with a usage error (xdist reports
        # it as a crash): each affected test errors with the cause instead.
        for item, problem in problems:
            item.stash[INVALID] = problem
        return
    raise pytest.UsageError(
        f"invalid @pytest.mark.{MARKER}:\n  "
        + "\n  ".join(f"{item.nodeid}: {problem}" for item, problem in problems)
    )


def _require_a_requirement(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A gate run (a target, nothing to check against it) is a usage error."""
    settings = config.stash[SETTINGS]
    if not settings.live or is_xdist_worker(config):
        return
    if not any(item.stash.get(REQUIREMENTS, None) for item in items):
        if settings.declared:
            raise pytest.UsageError(
                f"--upgrade-target names a target but none of the tests selected has a"
                f" requirement: the upgrade_requirements lines run when the arguments name"
                f" nothing, the rootdir or the configuration file's directory; name them with"
                f" {NODEID!r} (or one of its node ids)"
            )
        raise pytest.UsageError(NO_REQUIREMENT)


def _prepare_bundled_server(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Import the bundled server's dependencies once the run is known to need them.

    They are not imported with the plugin (every pytest run would pay about
    0.2 s for cryptography and hypercorn); when marked tests, or tests using
    ``upgrade_server``, will run, collection pays it rather than the first one.
    """
    if config.stash[SETTINGS].live:
        return
    if any(
        item.stash.get(REQUIREMENTS, None) or "upgrade_server" in getattr(item, "fixturenames", ())
        for item in items
    ):
        import_server_dependencies()


def import_server_dependencies() -> None:
    """Import what the bundled server's first start would (benchmarks/ calls it too)."""
    importlib.import_module("pytest_upgrade.server.bundled")
    importlib.import_module("hypercorn.utils")
    # With the h3 extra the server also serves HTTP/3, and its start asks for
    # aioquic (about 90 ms to import).
    with contextlib.suppress(ImportError):
        importlib.import_module("aioquic.asyncio")
