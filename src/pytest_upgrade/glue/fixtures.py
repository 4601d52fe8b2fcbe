"""The fixtures: the app, the bundled server, the target, the probes of a marked
test, and the ``upgrade`` fixture its body gets; the options of the app
(``--upgrade-app``) and of a marked test's evaluation policy (``--upgrade-strict``,
``--upgrade-require-all-checks``, ``--upgrade-checks``, ``--upgrade-skip-checks``).
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import pathlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from .._async_clients import ASYNC_CLIENTS, AsyncClients
from ..judge import EvaluationPolicy, RequirementResult, RequirementVerdict, evaluate
from ..probes.target import Target
from ..protocols.planning import Circumstances
from ..report.results import deadline_note, not_run_text
from ..server.answers import ServedAnswers
from ..server.enforce import enforcing_app
from ..server.logged import LoggedExceptions, logged_exceptions
from .ahead import AHEAD
from .keys import (
    ENFORCER,
    ERROR,
    INVALID,
    ITEM_TARGET,
    ITEM_UNRESOLVED,
    MARKER,
    REQUIREMENTS,
    RESULTS,
)
from .outcome import UpgradeOutcome
from .served import add_server, misserved, remove_server, served_app, shared_server
from .settings import SETTINGS

if TYPE_CHECKING:
    from ..server.bundled import UpgradeServer

# The test properties the probes of an item recorded (replaced on a rerun).
_PROPERTIES = pytest.StashKey[list[tuple[str, object]]]()

# The bundled server's keep-alive timeout, at least (hypercorn's default).
_KEEP_ALIVE_FLOOR = 5.0


__all__ = []  # a pytest plugin: fixtures and hooks only


# The app the bundled server runs, and the evaluation policy of a marked test
# (read into the settings by glue.settings.read_settings).
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("upgrade")
    group.addoption(
        "--upgrade-app",
        metavar="MODULE:ATTRIBUTE",
        help="ASGI or WSGI app the bundled server runs (instead of the upgrade_app fixture).",
    )
    group.addoption(
        "--upgrade-strict",
        action="store_true",
        default=None,
        help="should-level findings fail the test instead of warning.",
    )
    group.addoption(
        "--upgrade-require-all-checks",
        action="store_true",
        default=None,
        help="a must-check that could not run (skipped) fails the test instead of being"
        " listed as not run.",
    )
    group.addoption(
        "--upgrade-checks",
        metavar="IDS",
        action="append",
        default=[],
        help="run only these check ids (comma-separated, repeatable).",
    )
    group.addoption(
        "--upgrade-skip-checks",
        metavar="IDS",
        action="append",
        default=[],
        help="do not run these check ids (comma-separated, repeatable).",
    )
    parser.addini("upgrade_app", "ASGI or WSGI app for the bundled server (module:attribute).")
    parser.addini(
        "upgrade_strict", "should-level findings fail the test.", type="bool", default=False
    )
    parser.addini(
        "upgrade_require_all_checks",
        "a must-check that could not run fails the test.",
        type="bool",
        default=False,
    )


def _load_app(spec: str, invocation_dir: pathlib.Path) -> object:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise pytest.UsageError(f"--upgrade-app: expected MODULE:ATTRIBUTE, got {spec!r}")
    # Like the hypercorn and uvicorn command lines, look for the module in the
    # directory pytest was started from.
    if str(invocation_dir) not in sys.path:
        sys.path.insert(0, str(invocation_dir))
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise pytest.UsageError(
            f"--upgrade-app: cannot import {module_name!r}: {type(exc).__name__}: {exc}"
            " (is its directory on sys.path? see the pythonpath ini option)"
        ) from None
    app: object = module
    for part in attribute.split("."):
        try:
            app = getattr(app, part)
        except AttributeError:
            raise pytest.UsageError(
                f"--upgrade-app: module {module_name!r} has no attribute {attribute!r}"
            ) from None
    return app


@pytest.fixture(scope="session")
def upgrade_app(pytestconfig: pytest.Config) -> object:
    """The ASGI or WSGI app the bundled server runs. Override it in conftest.py."""
    spec = pytestconfig.stash[SETTINGS].app
    if spec is None:
        pytest.fail(
            "pytest-upgrade has no app to serve: override the upgrade_app fixture in"
            " conftest.py, set --upgrade-app=module:attribute (or the upgrade_app ini option),"
            " or test a live deployment with --upgrade-target=URL",
            pytrace=False,
        )
    return _load_app(spec, pytestconfig.invocation_params.dir)


@pytest.fixture(scope="session")
def upgrade_server_options() -> dict[str, Any]:
    """Keyword arguments for the bundled server; override to change them.

    For example ``{"tls_minimum": ssl.TLSVersion.TLSv1}`` makes it accept
    TLS 1.0 (hypercorn's own minimum is 1.2), ``tls_maximum`` caps the
    version, ``alpn_protocols`` changes what its TLS listener offers, and
    ``tls_upgrade=True`` lets its cleartext listener switch to TLS in-band
    (RFC 2817), which hypercorn cannot do by itself, and
    ``{"virtual_host": "api.example.com"}`` hands the app every request as
    addressed to that host (for apps that allow only their own names).
    """
    return {}


@pytest.fixture(scope="session")
def upgrade_server(
    request: pytest.FixtureRequest, upgrade_app: object, upgrade_server_options: dict[str, Any]
) -> Iterator[UpgradeServer]:
    """The bundled server: ``upgrade_app`` under hypercorn, TLS (ALPN h2, http/1.1) and cleartext.

    ``https_url``, ``http_url``, ``ca.ca_pem`` and ``ssl_context()`` let your
    own tests talk to it with your own clients.
    """
    config = request.config
    options = dict(upgrade_server_options)
    tls_minimum = config.stash[ENFORCER].session_tls_minimum
    if tls_minimum is not None:
        options.setdefault("tls_minimum", tls_minimum)
    # A probe's fresh connection must not be closed as idle before the
    # probe's own timeout runs out (see server.bundled._KEEP_ALIVE_TIMEOUT).
    options.setdefault("keep_alive_timeout", max(_KEEP_ALIVE_FLOOR, config.stash[SETTINGS].timeout))
    # Another directory's definition may already serve this app (glue.served).
    shared = shared_server(config, upgrade_app, options)
    if shared is not None:
        yield shared
        return
    # The enforcer lets everything through unless something is enforced.
    from hypercorn.utils import is_asgi  # noqa: PLC0415 (lazy: heavy)

    from ..server.bundled import ServerStartError, UpgradeServer  # noqa: PLC0415 (lazy: heavy)
    from ..server.ca import BundledCA  # noqa: PLC0415 (lazy: heavy)

    app = enforcing_app(upgrade_app, config.stash[ENFORCER], asgi=is_asgi(upgrade_app))
    ca = BundledCA()
    try:
        server = UpgradeServer(app, ca=ca, **options)
    except (TypeError, ValueError) as exc:
        ca.close()
        pytest.fail(f"upgrade_server_options: {exc}", pytrace=False)
    failed: ServerStartError | None = None
    try:
        try:
            server.start()
        except ServerStartError as exc:
            failed = exc
        else:
            add_server(config, upgrade_app, options, server)
            yield server
    finally:
        remove_server(config, server)
        server.stop()
        ca.close()
    if failed is not None:
        # Outside the except block: one line and the app's traceback once, not
        # the chain of exceptions that led here.
        trace = f"\n\n{failed.traceback.rstrip()}" if failed.traceback else ""
        pytest.fail(f"the bundled server did not start: {failed}{trace}", pytrace=False)


@pytest.fixture(scope="session")
def upgrade_target(request: pytest.FixtureRequest, pytestconfig: pytest.Config) -> Target:
    """Where marked tests send their probes: --upgrade-target, or the bundled server.

    A fleet run (several deployments) has no one target: each marked test
    gets its deployment's through ``upgrade.target``.
    """
    settings = pytestconfig.stash[SETTINGS]
    if settings.is_fleet:
        pytest.fail(
            f"upgrade_target: this run checks {len(settings.fleet)} deployments (a fleet);"
            " a marked test gets its own deployment's target as upgrade.target",
            pytrace=False,
        )
    if settings.live:
        return settings.tested[0].target  # its first node
    server: UpgradeServer = request.getfixturevalue("upgrade_server")
    return server.target(headers=settings.headers)


# The plugin's own fixtures, which the probes must not wait for.
_OWN_FIXTURES = frozenset({"request", "upgrade", "_upgrade_probe", "_upgrade_enforcement"})


@pytest.fixture(autouse=True)
def _upgrade_probe(request: pytest.FixtureRequest, _upgrade_enforcement: None) -> None:
    """Evaluates a marked test's requirements once its other fixtures are set up.

    A test that requests ``upgrade`` has them evaluated when that fixture is
    set up, in the test's own fixture order (``def test(db, upgrade)``: after
    ``db``). Any other marked test has them evaluated after all its other
    fixtures, so the app's state they prepare is there when the probes run.
    """
    item = request.node
    invalid = item.stash.get(INVALID, None)
    if invalid is not None:
        pytest.fail(f"invalid @pytest.mark.{MARKER}: {invalid}", pytrace=False)
    if not item.stash.get(REQUIREMENTS, None) or "upgrade" in item.fixturenames:
        return
    for name in item.fixturenames:
        if name not in _OWN_FIXTURES:
            request.getfixturevalue(name)
    _evaluate(request)


def _evaluate(request: pytest.FixtureRequest) -> None:
    """Probe and judge every requirement of the item; the results go to its stash."""
    item = request.node
    requirements = item.stash.get(REQUIREMENTS, None)
    if not requirements or RESULTS in item.stash:
        return
    unresolved = item.stash.get(ITEM_UNRESOLVED, None)
    if unresolved is not None:
        # No address to probe: every requirement of the item errors with the cause.
        item.stash[ERROR] = unresolved
        pytest.fail(f"cannot evaluate {requirements[0].describe()}: {unresolved}", pytrace=False)
    settings = request.config.stash[SETTINGS]
    target = _item_target(request)
    ahead = request.config.stash[AHEAD]
    server: UpgradeServer | None = None
    enforcer = request.config.stash[ENFORCER]
    enforced: tuple[str, ...] = ()
    if target.bundled:
        server = request.getfixturevalue("upgrade_server")
        if served_app(request.config, server) is not None:  # not a server of the user's making
            problem = misserved(request.config, server, request.getfixturevalue("upgrade_app"))
            if problem is not None:
                pytest.fail(problem, pytrace=False)
        server.drain_errors()  # errors of earlier tests are not this test's
        server.drain_answers()
        enforced = enforcer.enforced_now
    policy = EvaluationPolicy(
        selected=settings.selected,
        strict=settings.strict,
        require_all=settings.require_all_checks,
    )
    results: list[RequirementResult] = []
    item.stash[RESULTS] = results
    # A rerun (pytest-rerunfailures) probes afresh: its properties replace the last attempt's.
    recorded = item.stash.get(_PROPERTIES, [])
    item.user_properties[:] = [p for p in item.user_properties if p not in recorded]
    item.stash[_PROPERTIES] = []
    for index, requirement in enumerate(requirements):
        # Probed now, or ahead of this item when it is eligible (glue.ahead).
        # The enforcer never answers the probes: they judge the app.
        with enforcer.probing(), logged_exceptions() as logged:
            facts = functools.partial(_circumstances, settings.as_of, enforced, server, logged)
            observation = ahead.observe(item, index, requirement, target, facts)
        result = evaluate(observation, policy, cafile=target.cafile)
        results.append(result)
        _record_properties(item, result)
        # The target could not be evaluated, or a check raised: the test errors.
        if result.verdict is RequirementVerdict.ERROR and result.error is not None:
            item.stash[ERROR] = result.error
            pytest.fail(f"cannot evaluate {requirement.describe()}: {result.error}", pytrace=False)


def _item_target(request: pytest.FixtureRequest) -> Target:
    """The item's own target (a fleet run), else the session's ``upgrade_target``."""
    item: pytest.Item = request.node
    target = item.stash.get(ITEM_TARGET, None)
    if target is not None:
        return target
    session_target: Target = request.getfixturevalue("upgrade_target")
    return session_target


def _record_properties(item: pytest.Item, result: RequirementResult) -> None:
    """Each check's outcome as a test property: JUnit XML shows them (--junitxml)."""
    prefix = f"upgrade {result.requirement.describe(deadline=False)}"
    properties = [(f"{prefix} verdict", result.verdict.value)]
    if result.observation.enforced:
        judged = "the app's answers (the probes bypass enforcement of "
        properties.append(
            (f"{prefix} judged", judged + ", ".join(result.observation.enforced) + ")")
        )
    if (deadline := deadline_note(result.observation)) is not None:
        properties.append((f"{prefix} deadline", deadline))
    for finding in result.findings:
        properties.append((f"{prefix} {finding.check_id}", finding.outcome.value))
    if result.not_run:
        properties.append((f"{prefix} not run", not_run_text(result.not_run)))
    item.user_properties.extend(properties)
    item.stash.setdefault(_PROPERTIES, []).extend(properties)


def _circumstances(
    as_of: dt.date,
    enforced: tuple[str, ...],
    server: UpgradeServer | None,
    logged: LoggedExceptions,
) -> Circumstances:
    """What one requirement's probes were made in, told once they are done: the
    evaluation date, what the bundled server enforced, and its record of the app's
    errors and answers (which it gave itself, what the app sent over HTTP/2)."""
    if server is None:
        return Circumstances(as_of=as_of, enforced=enforced)
    answers = ServedAnswers(tuple(server.drain_answers()), server.app_saw_websocket_key)
    # What reached hypercorn, and what a framework caught and logged.
    app_errors = (*(e.traceback for e in server.drain_errors()), *logged.drain())
    return Circumstances(as_of, enforced, app_errors, answers)


@pytest.fixture
def upgrade(request: pytest.FixtureRequest, _upgrade_probe: None) -> Iterator[UpgradeOutcome]:
    """The exchanges, findings and an upgraded client for a ``requires_upgrade`` test.

    The test's requirements are evaluated when this fixture is set up: after
    the fixtures the test lists before it.
    """
    _evaluate(request)
    results = request.node.stash.get(RESULTS, None)
    if results is None:
        pytest.fail(
            f"the upgrade fixture needs a @pytest.mark.{MARKER}(...) marker on the test",
            pytrace=False,
        )
    settings = request.config.stash[SETTINGS]
    target = _item_target(request)
    # Closed by glue.async_tests, in the event loop of the test's body.
    async_clients = request.node.stash[ASYNC_CLIENTS] = AsyncClients(target, settings.timeout)
    outcome = UpgradeOutcome(results, target, settings.timeout, async_clients)
    try:
        yield outcome
    finally:
        del request.node.stash[ASYNC_CLIENTS]
        outcome.close()
