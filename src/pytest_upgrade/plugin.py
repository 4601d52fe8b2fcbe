"""pytest wiring: options, the marker, fixtures, hooks. Nothing else.

The probes, checks and reports live in their own modules; this one turns
pytest concepts (options, markers, fixtures, outcomes) into calls of those
and back.

Outcomes follow CHECKS.md: a failed must-check fails the test (before its
body runs), a failed should-check is a :class:`PytestUpgradeWarning` (a
failure under ``--upgrade-strict``), a requirement none of whose checks could
run is skipped, and a target that cannot be evaluated at all (unreachable,
hanging, untrusted certificate, an app that does not start) is an error.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import json
import pathlib
import sys
import warnings
from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from . import _declared
from ._async_clients import ASYNC_CLIENTS, AsyncClients, refuse_in_event_loop
from ._model import Observation, Requirement
from ._requirements import parse_declared, parse_requirement
from ._stash import ENFORCER, session_tls_minimum
from ._warnings import PytestUpgradeWarning
from .checks.catalogue import REGISTRY, run_checks
from .probes.http import ClientTrust, Endpoint
from .probes.observe import Target, observe, target_error
from .protocols import TOKENS, protocol_for
from .report.publish import publish_reports
from .report.results import (
    RequirementResult,
    deadline_note,
    failure_report,
    result_to_json,
    summary_line,
)
from .server.enforce import enforcing_app

if TYPE_CHECKING:
    # Heavy imports (cryptography, hypercorn, httpx, websockets) wait until a
    # test needs them: every pytest run pays for what a plugin imports.
    import httpx
    from websockets.asyncio.client import ClientConnection as AsyncClientConnection
    from websockets.sync.client import ClientConnection

    from .server.bundled import UpgradeServer

__all__ = ["UpgradeOutcome"]

# Enforcement and the policy server, the HTML / Markdown reports, and the
# closing of async clients live in modules of their own.
pytest_plugins = [
    "pytest_upgrade._enforce_plugin",
    "pytest_upgrade._report_plugin",
    "pytest_upgrade._async_plugin",
]

MARKER = "requires_upgrade"
DEFAULT_TIMEOUT = 5.0
# The bundled server's keep-alive timeout, at least (hypercorn's default).
_KEEP_ALIVE_FLOOR = 5.0

_REQUIREMENTS = pytest.StashKey[tuple[Requirement, ...]]()
_RESULTS = pytest.StashKey[list[RequirementResult]]()
_ERROR = pytest.StashKey[str]()
_INVALID = pytest.StashKey[str]()
_SETTINGS = pytest.StashKey["Settings"]()
_COLLECTOR_NAME = "pytest-upgrade-collector"


# -- options ---------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("upgrade", "426 Upgrade Required compliance (pytest-upgrade)")
    group.addoption(
        "--upgrade-app",
        metavar="MODULE:ATTRIBUTE",
        help="ASGI or WSGI app the bundled server runs (instead of the upgrade_app fixture).",
    )
    group.addoption(
        "--upgrade-target",
        metavar="URL",
        action="append",
        default=[],
        help="test a live deployment at this base URL instead of the bundled server;"
        " give it twice for an https and a cleartext http URL of the same deployment.",
    )
    group.addoption(
        "--upgrade-ca",
        metavar="PEM",
        help="trust this CA certificate (instead of the system store) for --upgrade-target.",
    )
    group.addoption(
        "--upgrade-timeout",
        metavar="SECONDS",
        type=float,
        help=f"bound on every probe (default {DEFAULT_TIMEOUT:g}).",
    )
    group.addoption(
        "--upgrade-strict",
        action="store_true",
        default=None,
        help="should-level findings fail the test instead of warning.",
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
    group.addoption(
        "--upgrade-require",
        metavar="REQUIREMENT",
        action="append",
        default=[],
        help='a requirement to check, as in upgrade_requirements: "h2 /v2/orders",'
        ' "HTTP/1.1 /legacy after=2027-03-01" (repeatable).',
    )
    group.addoption(
        "--upgrade-as-of",
        metavar="YYYY-MM-DD",
        help="evaluate deadlines (after=) as of this date instead of today (UTC),"
        " to rehearse a cutover day.",
    )
    group.addoption(
        "--upgrade-report",
        metavar="PATH",
        help="write the compliance results as JSON to PATH.",
    )
    parser.addini("upgrade_app", "ASGI or WSGI app for the bundled server (module:attribute).")
    parser.addini(
        "upgrade_target",
        "base URL(s) of a live deployment to test (https and/or http).",
        type="args",
    )
    parser.addini(
        "upgrade_requirements",
        "requirements to check, one per line: PROTOCOL [PATH] [method=M] [after=YYYY-MM-DD];"
        " each becomes a test.",
        type="linelist",
    )
    parser.addini("upgrade_ca", "CA certificate (PEM) to trust for upgrade_target.")
    parser.addini("upgrade_timeout", "bound on every probe, in seconds.")
    parser.addini(
        "upgrade_strict", "should-level findings fail the test.", type="bool", default=False
    )


@dataclass
class Settings:
    """The validated configuration of one pytest run."""

    app: str | None
    target_urls: tuple[str, ...]
    cafile: str | None
    timeout: float
    strict: bool
    selected: tuple[str, ...] | None
    report_path: pathlib.Path | None
    as_of: dt.date
    declared: tuple[Requirement, ...]
    _executor: ThreadPoolExecutor | None = None

    @property
    def executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=8, thread_name_prefix="pytest-upgrade-probe"
            )
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def _ids(values: list[str], option: str) -> set[str]:
    ids = {part.strip() for value in values for part in value.split(",") if part.strip()}
    unknown = sorted(ids - set(REGISTRY))
    if unknown:
        raise pytest.UsageError(
            f"{option}: unknown check id(s) {', '.join(unknown)}; known: {', '.join(REGISTRY)}"
        )
    return ids


def _settings(config: pytest.Config) -> Settings:
    def pick(option: str, ini: str) -> Any:
        value = config.getoption(option)
        return value if value not in (None, "") else (config.getini(ini) or None)

    target_urls = tuple(config.getoption("upgrade_target") or config.getini("upgrade_target"))
    try:
        Target.from_urls(target_urls, cafile=None) if target_urls else None
    except ValueError as exc:
        raise pytest.UsageError(f"--upgrade-target: {exc}") from None
    cafile = pick("upgrade_ca", "upgrade_ca")
    if cafile is not None and not pathlib.Path(cafile).is_file():
        raise pytest.UsageError(f"--upgrade-ca: no such file: {cafile}")
    raw_timeout = pick("upgrade_timeout", "upgrade_timeout")
    try:
        timeout = float(raw_timeout) if raw_timeout is not None else DEFAULT_TIMEOUT
    except ValueError:
        raise pytest.UsageError(f"--upgrade-timeout: not a number: {raw_timeout!r}") from None
    if not 0 < timeout <= 600:
        raise pytest.UsageError(
            f"--upgrade-timeout: must be between 0 and 600 seconds, got {timeout:g}"
        )
    strict = config.getoption("upgrade_strict")
    if strict is None:
        strict = bool(config.getini("upgrade_strict"))
    only = _ids(config.getoption("upgrade_checks"), "--upgrade-checks")
    skip = _ids(config.getoption("upgrade_skip_checks"), "--upgrade-skip-checks")
    selected: tuple[str, ...] | None = None
    if only or skip:
        selected = tuple(i for i in REGISTRY if (not only or i in only) and i not in skip)
    report = config.getoption("upgrade_report")
    raw_as_of = config.getoption("upgrade_as_of")
    as_of = dt.datetime.now(dt.UTC).date()
    if raw_as_of:
        try:
            as_of = dt.date.fromisoformat(raw_as_of)
        except ValueError:
            raise pytest.UsageError(
                f"--upgrade-as-of: expected a date YYYY-MM-DD, got {raw_as_of!r}"
            ) from None
    return Settings(
        declared=_declared_requirements(config),
        app=pick("upgrade_app", "upgrade_app"),
        target_urls=target_urls,
        cafile=cafile,
        timeout=timeout,
        strict=bool(strict),
        selected=selected,
        report_path=pathlib.Path(report) if report else None,
        as_of=as_of,
    )


def _declared_requirements(config: pytest.Config) -> tuple[Requirement, ...]:
    sources = [
        (f"upgrade_requirements line {n}", line)
        for n, line in enumerate(config.getini("upgrade_requirements"), 1)
    ]
    sources += [("--upgrade-require", line) for line in config.getoption("upgrade_require")]
    declared: list[Requirement] = []
    for where, line in sources:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            requirement = parse_declared(line)
        except ValueError as exc:
            raise pytest.UsageError(f"{where}: {line.strip()!r}: {exc}") from None
        if requirement not in declared:
            declared.append(requirement)
    return tuple(declared)


def _one_of(names: tuple[str, ...]) -> str:
    return ", ".join(map(repr, names[:-1])) + f" or {names[-1]!r}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(protocol, path='/', method='GET', headers=None, after=None): the legacy"
        " request must get 426 Upgrade Required and the upgraded one must succeed"
        f" (pytest-upgrade; protocol: {_one_of(TOKENS)}).",
    )
    config.stash[_SETTINGS] = _settings(config)
    config.pluginmanager.register(_Collector(config), _COLLECTOR_NAME)


def pytest_unconfigure(config: pytest.Config) -> None:
    settings = config.stash.get(_SETTINGS, None)
    if settings is not None:
        settings.close()
    collector = config.pluginmanager.get_plugin(_COLLECTOR_NAME)
    if collector is not None:
        config.pluginmanager.unregister(collector)


# -- collection ------------------------------------------------------------------


class _DeclaredModule(pytest.Module):
    """The module behind declarative requirements, already imported with the plugin."""

    def _getobj(self) -> Any:
        return _declared


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.function is _declared.test_requirement:
        declared = metafunc.config.stash[_SETTINGS].declared
        ids = [f"{r.protocol} {r.method} {r.path}" for r in declared]
        metafunc.parametrize("upgrade_declared", declared, ids=ids)


def _declared_anchor(config: pytest.Config) -> pathlib.Path:
    """Where declared requirements live: the configuration file, else the rootdir.

    pytest scopes conftest hooks by a node's path, so items placed at the
    plugin's own file (in site-packages) would escape the project's
    ``conftest.py`` hooks, though not its fixtures.
    """
    return config.inipath or config.rootpath


def _declared_items(session: pytest.Session) -> list[pytest.Item]:
    module = _DeclaredModule.from_parent(
        session, path=_declared_anchor(session.config), nodeid="upgrade-requirements"
    )
    items: list[pytest.Item] = []
    for node in module.collect():
        if isinstance(node, pytest.Item):
            requirement = node.callspec.params["upgrade_declared"]  # type: ignore[attr-defined]
            node.stash[_REQUIREMENTS] = (requirement,)
            items.append(node)
    # Reported like any collected module, so "collected N items" counts them.
    report = pytest.CollectReport(
        module.nodeid, "passed", None, list[pytest.Item | pytest.Collector](items)
    )
    session.ihook.pytest_collectreport(report=report)
    return items


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    settings = config.stash[_SETTINGS]
    if settings.declared:
        # Declared requirements are tests even where no test file exists.
        items.extend(_declared_items(session))
    problems: list[tuple[pytest.Item, str]] = []
    for item in items:
        if item.stash.get(_REQUIREMENTS, None):
            continue  # a declared requirement
        requirements: list[Requirement] = []
        for marker in item.iter_markers(MARKER):
            try:
                requirement = parse_requirement(marker.args, marker.kwargs)
            except ValueError as exc:
                problems.append((item, str(exc)))
                continue
            if requirement not in requirements:
                requirements.append(requirement)
        if requirements:
            # iter_markers yields the closest marker first; report in written order.
            item.stash[_REQUIREMENTS] = tuple(reversed(requirements))
    if not problems:
        _require_a_requirement(config, items)
        _prepare_bundled_server(config, items)
        return
    if _is_xdist_worker(config):
        # A worker cannot end the session with a usage error (xdist reports
        # it as a crash): each affected test errors with the cause instead.
        for item, problem in problems:
            item.stash[_INVALID] = problem
        return
    raise pytest.UsageError(
        f"invalid @pytest.mark.{MARKER}:\n  "
        + "\n  ".join(f"{item.nodeid}: {problem}" for item, problem in problems)
    )


def _require_a_requirement(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A gate run (a target, nothing to check against it) is a usage error."""
    settings = config.stash[_SETTINGS]
    if not settings.target_urls or _is_xdist_worker(config):
        return
    if not any(item.stash.get(_REQUIREMENTS, None) for item in items):
        raise pytest.UsageError(_NO_REQUIREMENT)


def _prepare_bundled_server(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Import the bundled server's dependencies once the run is known to need them.

    They are not imported with the plugin (every pytest run would pay about
    0.2 s for cryptography and hypercorn); when marked tests, or tests using
    ``upgrade_server``, will run, collection pays it rather than the first one.
    """
    if config.stash[_SETTINGS].target_urls:
        return
    if any(
        item.stash.get(_REQUIREMENTS, None) or "upgrade_server" in getattr(item, "fixturenames", ())
        for item in items
    ):
        importlib.import_module("pytest_upgrade.server.bundled")
        importlib.import_module("hypercorn.utils")


_NO_REQUIREMENT = (
    "--upgrade-target names a target but no requirement was found: mark tests with"
    f" @pytest.mark.{MARKER}(...), list them in the upgrade_requirements ini option, or pass"
    ' --upgrade-require="h2 /path"'
)


# -- fixtures --------------------------------------------------------------------


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
    spec = pytestconfig.stash[_SETTINGS].app
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
    version, ``alpn_protocols`` changes what its TLS listener offers.
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
    tls_minimum = session_tls_minimum(config)
    if tls_minimum is not None:
        options.setdefault("tls_minimum", tls_minimum)
    # A probe's fresh connection must not be closed as idle before the
    # probe's own timeout runs out (see server.bundled._KEEP_ALIVE_TIMEOUT).
    options.setdefault(
        "keep_alive_timeout", max(_KEEP_ALIVE_FLOOR, config.stash[_SETTINGS].timeout)
    )
    # The enforcer lets everything through unless something is enforced.
    from hypercorn.utils import is_asgi  # noqa: PLC0415 (lazy: heavy)

    from .server.bundled import BundledCA, ServerStartError, UpgradeServer  # noqa: PLC0415 (lazy: heavy)

    app = enforcing_app(upgrade_app, config.stash[ENFORCER], asgi=is_asgi(upgrade_app))
    ca = BundledCA()
    try:
        server = UpgradeServer(app, ca=ca, **options)
    except TypeError as exc:
        ca.close()
        pytest.fail(f"upgrade_server_options: {exc}", pytrace=False)
    try:
        try:
            server.start()
        except ServerStartError as exc:
            pytest.fail(f"the bundled server did not start: {exc}", pytrace=False)
        yield server
    finally:
        server.stop()
        ca.close()


@pytest.fixture(scope="session")
def upgrade_target(request: pytest.FixtureRequest, pytestconfig: pytest.Config) -> Target:
    """Where marked tests send their probes: --upgrade-target, or the bundled server."""
    settings = pytestconfig.stash[_SETTINGS]
    if settings.target_urls:
        return Target.from_urls(settings.target_urls, cafile=settings.cafile)
    server: UpgradeServer = request.getfixturevalue("upgrade_server")
    cafile = str(server.ca.ca_pem)
    return Target(
        https=Endpoint.from_url(server.https_url),
        http=Endpoint.from_url(server.http_url),
        trust=ClientTrust(cafile),
        cafile=cafile,
        bundled=True,
    )


@pytest.fixture(autouse=True)
def _upgrade_probe(request: pytest.FixtureRequest, _upgrade_enforcement: None) -> None:
    """Runs the probes and checks of a marked test before its body."""
    item = request.node
    invalid = item.stash.get(_INVALID, None)
    if invalid is not None:
        pytest.fail(f"invalid @pytest.mark.{MARKER}: {invalid}", pytrace=False)
    requirements = item.stash.get(_REQUIREMENTS, None)
    if not requirements:
        return
    settings = request.config.stash[_SETTINGS]
    target: Target = request.getfixturevalue("upgrade_target")
    server: UpgradeServer | None = None
    if target.bundled:
        server = request.getfixturevalue("upgrade_server")
        server.drain_errors()  # errors of earlier tests are not this test's
    results: list[RequirementResult] = []
    item.stash[_RESULTS] = results
    for requirement in requirements:
        observation = observe(
            requirement, target, timeout=settings.timeout, executor=settings.executor
        )
        observation = dataclasses.replace(observation, as_of=settings.as_of)
        if server is not None:
            observation = _attribute_answers(observation, server)
        app_errors = tuple(e.traceback for e in server.drain_errors()) if server else ()
        observation = dataclasses.replace(observation, app_errors=app_errors)
        findings = tuple(run_checks(observation, settings.selected))
        result = RequirementResult(
            observation,
            findings,
            strict=settings.strict,
            cafile=target.cafile,
            app_errors=app_errors,
        )
        results.append(result)
        _record_properties(item, result)
        error = target_error(observation)
        if error is not None:
            item.stash[_ERROR] = error
            pytest.fail(f"cannot evaluate {requirement.describe()}: {error}", pytrace=False)


def _record_properties(item: pytest.Item, result: RequirementResult) -> None:
    """Each check's outcome as a test property: JUnit XML shows them (--junitxml)."""
    requirement = result.requirement
    prefix = f"upgrade {requirement.protocol} {requirement.method} {requirement.path}"
    item.user_properties.append((f"{prefix} verdict", result.verdict.lower()))
    if (deadline := deadline_note(result.observation)) is not None:
        item.user_properties.append((f"{prefix} deadline", deadline))
    for finding in result.findings:
        item.user_properties.append((f"{prefix} {finding.check_id}", finding.outcome.value))


def _attribute_answers(observation: Observation, server: UpgradeServer) -> Observation:
    """Mark the answers the bundled hypercorn gave itself, before the app saw the request."""
    exchanges = []
    for exchange in observation.exchanges:
        answered_by = exchange.answered_by
        keys = [v for k, v in exchange.request_headers if k.lower() == "sec-websocket-key"]
        if exchange.response is not None and keys and exchange.role == "version-probe":
            answered_by = "app" if server.app_saw_websocket_key(keys[0]) else "server"
        elif exchange.role == "h2c-upgrade" and exchange.response is not None:
            # hypercorn switches to h2c itself (101) before the app is called.
            answered_by = "server" if exchange.response.status == 101 else "app"
        exchanges.append(dataclasses.replace(exchange, answered_by=answered_by))
    return dataclasses.replace(observation, exchanges=tuple(exchanges))


class UpgradeOutcome:
    """What the ``upgrade`` fixture gives a marked test.

    ``results`` holds one :class:`RequirementResult` per requirement. With a
    single requirement, ``legacy``, ``upgraded``, ``findings`` and
    ``requirement`` are shortcuts to it, and ``client`` is an httpx client
    already set up to speak the upgraded protocol to the target (in an async
    test: ``async_client`` and ``await async_websocket()``).
    """

    def __init__(
        self,
        results: list[RequirementResult],
        target: Target,
        timeout: float,
        async_clients: AsyncClients | None = None,
    ) -> None:
        self.results = tuple(results)
        self.target = target
        self._timeout = timeout
        self._async = async_clients or AsyncClients(target, timeout)
        self._client: httpx.Client | None = None
        self._websocket: ClientConnection | None = None

    def result(self, protocol: str | None = None) -> RequirementResult:
        if protocol is None:
            if len(self.results) != 1:
                raise ValueError(
                    f"this test has {len(self.results)} requirements; name one:"
                    f" upgrade.result({self.results[0].requirement.protocol!r})"
                )
            return self.results[0]
        for result in self.results:
            if result.requirement.protocol == protocol:
                return result
        raise KeyError(protocol)

    @property
    def requirement(self) -> Requirement:
        return self.result().requirement

    @property
    def legacy(self) -> Any:
        return self.result().observation.exchange("legacy")

    @property
    def upgraded(self) -> Any:
        return self.result().observation.exchange("upgraded")

    @property
    def findings(self) -> tuple[Any, ...]:
        return self.result().findings

    @property
    def client(self) -> httpx.Client:
        """An httpx client speaking the upgraded protocol (HTTP/2, h2c, TLS ≥ 1.x, HTTP/1.1)."""
        refuse_in_event_loop("client", "upgrade.async_client (an httpx.AsyncClient)")
        if self._client is None:
            from ._clients import upgraded_client  # noqa: PLC0415 (lazy: heavy)

            self._client = upgraded_client(self.requirement, self.target, self._timeout)
        return self._client

    @property
    def websocket(self) -> ClientConnection:
        """An open WebSocket connection to the path (websocket requirements)."""
        if not protocol_for(self.requirement.protocol).websocket_client:
            raise ValueError("upgrade.websocket is for a websocket requirement")
        refuse_in_event_loop("websocket", "await upgrade.async_websocket()")
        if self._websocket is None:
            from ._clients import open_websocket  # noqa: PLC0415 (lazy: heavy)

            self._websocket = open_websocket(self.requirement, self.target, self._timeout)
        return self._websocket

    @property
    def async_client(self) -> httpx.AsyncClient:
        """The same client as ``client``, as an ``httpx.AsyncClient`` (async tests only).

        Created on first use in the event loop running the test, closed there
        when the test's body ends.
        """
        return self._async.client(self.requirement)

    async def async_websocket(self) -> AsyncClientConnection:
        """Open a WebSocket connection to the path with websockets' asyncio client.

        Async tests only (an asyncio event loop); each call opens a new
        connection, and all are closed when the test's body ends.
        """
        if not protocol_for(self.requirement.protocol).websocket_client:
            raise ValueError("upgrade.async_websocket() is for a websocket requirement")
        return await self._async.websocket(self.requirement)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._websocket is not None:
            self._websocket.close()
            self._websocket = None


@pytest.fixture
def upgrade(request: pytest.FixtureRequest, _upgrade_probe: None) -> Iterator[UpgradeOutcome]:
    """The exchanges, findings and an upgraded client for a ``requires_upgrade`` test."""
    results = request.node.stash.get(_RESULTS, None)
    if results is None:
        pytest.fail(
            f"the upgrade fixture needs a @pytest.mark.{MARKER}(...) marker on the test",
            pytrace=False,
        )
    settings = request.config.stash[_SETTINGS]
    target: Target = request.getfixturevalue("upgrade_target")
    # Closed by _async_plugin, in the event loop of the test's body.
    async_clients = request.node.stash[ASYNC_CLIENTS] = AsyncClients(target, settings.timeout)
    outcome = UpgradeOutcome(results, target, settings.timeout, async_clients)
    try:
        yield outcome
    finally:
        del request.node.stash[ASYNC_CLIENTS]
        outcome.close()


# -- outcomes --------------------------------------------------------------------


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    results = item.stash.get(_RESULTS, None)
    if results:
        failing = [r for r in results if r.failed]
        for result in results:
            for finding in result.warnings:
                warnings.warn(
                    PytestUpgradeWarning(
                        f"{result.requirement.describe()}: {finding.check_id}: {finding.message}"
                    ),
                    stacklevel=1,
                )
        if failing:
            pytest.fail("\n\n".join(failure_report(r) for r in failing), pytrace=False)
        if all(r.all_skipped for r in results):
            reasons = "; ".join(
                f"{r.requirement.describe()}: {r.findings[0].message}" for r in results
            )
            pytest.skip(f"no check could run: {reasons}")
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, Any]:
    report = yield
    results = item.stash.get(_RESULTS, None)
    if results is None:
        return report
    if call.when == "teardown":
        # The reports carry what is needed from here on; the exchanges (and
        # their bodies) need not live as long as the session's items.
        del item.stash[_RESULTS]
        return report
    # Attach the results once: to the call report, or to the setup report when
    # the test never got to its call phase.
    if call.when == "call":
        report.upgrade_results = [result_to_json(r) for r in results]
        report.upgrade_summary = [summary_line(r) for r in results]
    elif call.when == "setup" and report.failed:
        # The target could not be evaluated: every requirement reads as an error.
        cause = item.stash.get(_ERROR, "") or report.longreprtext.strip()
        report.upgrade_results = [
            {**result_to_json(r), "verdict": "error", "error": cause} for r in results
        ]
        report.upgrade_summary = [f"ERROR   {r.requirement.describe()}: {cause}" for r in results]
    return report


class _Collector:
    """Gathers the results of every marked test (from xdist workers too) and reports them.

    Workers attach their results to the test reports, which xdist sends to
    the controller; so only the controller (or a plain run) writes the
    terminal section and the JSON file.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.entries: dict[str, list[dict[str, Any]]] = {}
        self.refused: list[dict[str, str]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.refused += getattr(report, "upgrade_refused", [])
        results = getattr(report, "upgrade_results", None)
        if results is None:
            return
        outcome = "error" if report.when == "setup" and report.failed else report.outcome
        summaries = getattr(report, "upgrade_summary", [])
        self.entries[report.nodeid] = [
            {"nodeid": report.nodeid, **result, "outcome": outcome, "summary": summary}
            for result, summary in zip(results, summaries, strict=True)
        ]

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.entries or _is_xdist_worker(self.config):
            return
        terminalreporter.section("upgrade compliance")
        for nodeid in sorted(self.entries):
            for entry in self.entries[nodeid]:
                terminalreporter.write_line(f"{entry['summary']}  {nodeid}")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        settings = self.config.stash[_SETTINGS]
        if _is_xdist_worker(self.config):
            return
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        selecting = bool(self.config.option.keyword or self.config.option.markexpr)
        deselected = reporter is not None and bool(reporter.stats.get("deselected"))
        if (
            settings.target_urls
            and session.exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED
            and not settings.declared
            and not (selecting or deselected)  # -k or -m left nothing: not a usage error
        ):
            # Under pytest-xdist the workers collect, and cannot raise the
            # usage error themselves: the controller turns "no tests ran" into it.
            if reporter is not None:
                reporter.write_line(f"ERROR: {_NO_REQUIREMENT}", red=True)
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        results = [
            {key: value for key, value in entry.items() if key != "summary"}
            for nodeid in sorted(self.entries)
            for entry in self.entries[nodeid]
        ]
        refused = sorted(self.refused, key=lambda r: (r["test"], r["path"], r["method"]))
        document = {
            "version": 1,
            "as_of": settings.as_of.isoformat(),
            "results": results,
            "refused": refused,
        }
        if settings.report_path is not None:
            settings.report_path.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps(document, indent=2) + "\n"
            settings.report_path.write_text(text, encoding="utf-8")
        # The HTML report, the Markdown summary and the CI step summary.
        publish_reports(session, document)


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")
