"""pytest wiring for rehearsing the cutover: enforcement and the policy server.

* ``--upgrade-enforce=TOKEN`` (and the ini option ``upgrade_enforce``, and the
  ``upgrade_enforce`` marker for one test): the bundled server refuses legacy
  requests itself; the terminal summary lists every refused request and the
  test that sent it.
* ``upgrade_policy_server``: a factory fixture starting a server that enforces
  a requirement and records every exchange, for client authors.
"""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Callable, Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from .._requirements import canonical_protocol
from ..protocols import ENFORCEABLE
from ..server.enforce import Enforcer, Refused
from .keys import ENFORCER, REFUSED
from .workers import is_xdist_worker

if TYPE_CHECKING:  # the policy server imports the bundled server: only when used
    from ..server.policy import PolicyServer, Route

__all__ = ["enforced_tokens"]  # and hooks and fixtures

ENFORCE_MARKER = "upgrade_enforce"
_REFUSED = pytest.StashKey[list[Refused]]()
_COLLECTOR = "pytest-upgrade-enforcement"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("upgrade")
    group.addoption(
        "--upgrade-enforce",
        metavar="TOKEN",
        action="append",
        default=[],
        help="the bundled server refuses this protocol's legacy requests with a 426 before the"
        f" app sees them ({', '.join(ENFORCEABLE)}; repeatable).",
    )
    parser.addini(
        "upgrade_enforce",
        "requirements the bundled server enforces for every request.",
        type="args",
    )


def enforced_tokens(values: Mapping[str, Any]) -> tuple[str, ...]:
    """What the bundled server enforces for the whole session (a UsageError names a bad one).

    ``values`` maps ``--upgrade-enforce`` and the ini name ``upgrade_enforce``
    to their values as pytest parsed them (either may be left out).
    """
    tokens = _tokens(values.get("--upgrade-enforce") or [], "--upgrade-enforce")
    tokens += _tokens(values.get("upgrade_enforce") or [], "upgrade_enforce")
    return tuple(dict.fromkeys(tokens))


def _tokens(values: list[str], where: str) -> tuple[str, ...]:
    tokens: list[str] = []
    for value in values:
        try:
            token = canonical_protocol(value)
        except ValueError:
            token = ""
        if token not in ENFORCEABLE:
            raise pytest.UsageError(
                f"{where}: cannot enforce {value!r}; enforceable: {', '.join(ENFORCEABLE)}"
            )
        tokens.append(token)
    return tuple(dict.fromkeys(tokens))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{ENFORCE_MARKER}(*tokens): while this test runs, the bundled server refuses the"
        f" legacy protocol of each token with a 426 ({', '.join(ENFORCEABLE)}).",
    )
    given = {
        "--upgrade-enforce": config.getoption("upgrade_enforce"),
        "upgrade_enforce": config.getini("upgrade_enforce"),
    }
    config.stash[ENFORCER] = Enforcer(session=enforced_tokens(given))
    config.pluginmanager.register(_RefusedCollector(config), _COLLECTOR)


def pytest_unconfigure(config: pytest.Config) -> None:
    collector = config.pluginmanager.get_plugin(_COLLECTOR)
    if collector is not None:
        config.pluginmanager.unregister(collector)


@pytest.fixture(autouse=True)
def _upgrade_enforcement(request: pytest.FixtureRequest) -> Iterator[None]:
    """Attributes what the enforcing server refuses to the test running now."""
    enforcer = request.config.stash[ENFORCER]
    item = request.node
    extra: list[str] = []
    for marker in item.iter_markers(ENFORCE_MARKER):
        try:
            extra += _tokens([str(arg) for arg in marker.args], f"@pytest.mark.{ENFORCE_MARKER}")
        except pytest.UsageError as exc:
            pytest.fail(str(exc), pytrace=False)
    enforcer.begin_test(item.nodeid, extra)
    try:
        yield
    finally:
        item.stash[_REFUSED] = enforcer.end_test()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, Any]:
    report = yield
    if call.when == "teardown":
        # A session- or module-scoped fixture sets up before a test's
        # enforcement begins and tears down after it ends: its refusals ride
        # on the next teardown report, listed as made outside a test.
        refused = item.stash.get(_REFUSED, []) + item.config.stash[ENFORCER].outside_tests()
        if refused:
            report.upgrade_refused = [dataclasses.asdict(r) for r in refused]
    return report


class _RefusedCollector:
    """Collects the legacy requests the server refused; lists them at the end of the session."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.refused = config.stash[REFUSED] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.refused += getattr(report, "upgrade_refused", [])

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if is_xdist_worker(self.config):
            return
        enforcer = self.config.stash[ENFORCER]
        refused = self.refused + [dataclasses.asdict(r) for r in enforcer.outside_tests()]
        if not refused and not enforcer.session:
            return
        terminalreporter.section("upgrade enforcement")
        enforced = ", ".join(enforcer.session) or "per test (upgrade_enforce marker)"
        if not refused:
            terminalreporter.write_line(
                f"enforcing {enforced}: no legacy request reached the bundled server"
            )
            return
        terminalreporter.write_line(
            f"enforcing {enforced}: {len(refused)} legacy request(s) refused with 426"
        )
        for one in sorted(refused, key=lambda r: (r["test"], r["path"])):
            terminalreporter.write_line(
                f"  {one['method']} {one['path']} ({one['spoken']}; needs"
                f" {one['required']})  {one['test'] or '(outside a test)'}"
            )


@pytest.fixture
def upgrade_policy_server() -> Iterator[Callable[..., PolicyServer]]:
    """Start a policy server: ``upgrade_policy_server("h2", routes={...})``.

    It enforces the requirement with a textbook 426, serves a small app behind
    it (``routes`` maps a path to ``(status, body)``; other paths answer 200
    with their path and protocol), and records every exchange. Stopped when
    the test ends.
    """
    servers: list[PolicyServer] = []

    def start(
        requirement: str = "h2",
        routes: Mapping[str, Route] | None = None,
        *,
        tls_minimum: ssl.TLSVersion | None = None,
    ) -> PolicyServer:
        from ..server.policy import PolicyServer  # noqa: PLC0415 (lazy: heavy)

        server = PolicyServer(requirement, routes, tls_minimum=tls_minimum)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
