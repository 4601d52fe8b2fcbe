"""The session's lifecycle: its options and ini values (what is tested and how it is
probed), the run's settings (validated once into :class:`Settings` by the
pure :func:`read_settings`, with the options :mod:`.collection`, :mod:`.fixtures` and
:mod:`.reports` register), the probe engine and what is probed ahead, and closing them.
The session's report (its collector) is :mod:`.reports`'."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest

from .._nodes import (
    DEFAULT_MAX_NODES,
    answers_from_json,
    answers_to_json,
    expand_nodes,
    names_to_resolve,
    resolve_names,
)
from ..probes.engine import DEFAULT_HOST_LIMIT, ProbeEngine
from .ahead import AHEAD, ProbeAhead
from .settings import (
    DEFAULT_CONCURRENCY,
    DEFAULT_TIMEOUT,
    INI_NAMES,
    OPTION_FLAGS,
    SETTINGS,
    Settings,
    read_settings,
)
from .workers import controller_as_of, controller_value, send_as_of, send_value, share_of

__all__: list[str] = []  # a pytest plugin: hooks only


# Over 60 lines: one declarative list of the session's options and ini values,
# kept in the order --help shows them.
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("upgrade", "426 Upgrade Required compliance (pytest-upgrade)")
    group.addoption(
        "--upgrade-target",
        metavar="URL",
        action="append",
        default=[],
        help="test a live deployment at this base URL instead of the bundled server"
        " (repeatable: an https and an http URL of the same host given one after the other"
        " are one deployment; every other URL is a deployment of its own).",
    )
    group.addoption(
        "--upgrade-targets-file",
        metavar="PATH",
        help="test the deployments listed in PATH, one a line: an https URL and/or an http"
        ' URL, then optionally ca=PEM, name=NAME, header="Name: value", cert=PEM, key=PEM'
        " and resolve=ADDR[,ADDR...] ('#' comments).",
    )
    group.addoption(
        "--upgrade-resolve",
        metavar="HOST:PORT:ADDR[,ADDR...]",
        action="append",
        default=[],
        help="probe these addresses as the nodes of the deployment on HOST:PORT, without"
        " looking the name up (curl's --resolve; repeatable); SNI, Host and certificate"
        " verification keep the name.",
    )
    group.addoption(
        "--upgrade-max-nodes",
        metavar="N",
        help="the most addresses a deployment's name may resolve to, each probed as a node"
        f" (default {DEFAULT_MAX_NODES}); more is a usage error.",
    )
    group.addoption(
        "--upgrade-header",
        metavar="'NAME: VALUE'",
        action="append",
        default=[],
        help="send this request header with every probe (repeatable, as curl's -H); ${VAR}"
        " in the value is taken from the environment. Credentials are never shown.",
    )
    group.addoption(
        "--upgrade-origin",
        metavar="URL",
        help="the origin of the browser application calling the API (https://app.example):"
        " the probes send it as Origin and the CORS checks judge; a requirement's origin= wins.",
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
        "--upgrade-as-of",
        metavar="YYYY-MM-DD",
        help="evaluate deadlines (after=) as of this date instead of today (UTC),"
        " to rehearse a cutover day.",
    )
    group.addoption(
        "--upgrade-concurrency",
        metavar="N",
        help="requirements probed at once against live targets: the probes of upcoming"
        " declared requirements start while earlier ones are reported, in order"
        f" (default {DEFAULT_CONCURRENCY}; 1 probes one requirement at a time).",
    )
    group.addoption(
        "--upgrade-host-limit",
        metavar="N",
        help=f"connections open at once to one host:port (default {DEFAULT_HOST_LIMIT}).",
    )
    group.addoption(
        "--upgrade-fresh-connections",
        action="store_true",
        default=None,
        help="open a new connection for every probe: without it, plain"
        " HTTP/1.1 and HTTP/2 requests to one host share kept-alive connections, as a"
        " browser's do.",
    )
    group.addoption(
        "--upgrade-probe-ahead",
        metavar="WHICH",
        help="which tests are probed ahead: 'declared' (upgrade_requirements and targets"
        " files, the default) or 'all' (marked tests too: only when no test body has a side"
        " effect a later probe depends on).",
    )
    parser.addini(
        "upgrade_target",
        "base URL(s) of a live deployment to test (https and/or http).",
        type="args",
    )
    parser.addini(
        "upgrade_targets",
        "live deployments to test, one per line, as in --upgrade-targets-file.",
        type="linelist",
    )
    parser.addini("upgrade_max_nodes", "the most addresses a deployment's name may resolve to.")
    parser.addini(
        "upgrade_headers",
        "request headers every probe sends, one 'Name: value' a line (${VAR}: the environment).",
        type="linelist",
    )
    parser.addini("upgrade_origin", "origin of the browser application calling the API.")
    parser.addini("upgrade_ca", "CA certificate (PEM) to trust for upgrade_target.")
    parser.addini("upgrade_timeout", "bound on every probe, in seconds.")
    parser.addini("upgrade_concurrency", "requirements probed at once against live targets.")
    parser.addini("upgrade_host_limit", "connections open at once to one host:port.")
    parser.addini("upgrade_probe_ahead", "which tests are probed ahead: declared or all.")
    parser.addini(
        "upgrade_fresh_connections",
        "a new connection for every probe (no kept-alive connections).",
        type="bool",
        default=False,
    )


def _given(config: pytest.Config) -> dict[str, Any]:
    """The values of the options and ini values the settings read, as pytest parsed them."""
    values = {flag: config.getoption(flag[2:].replace("-", "_")) for flag in OPTION_FLAGS}
    return values | {name: config.getini(name) for name in INI_NAMES}


def pytest_configure(config: pytest.Config) -> None:
    # Under xdist a worker judges as of its controller's date (one date per run).
    today = controller_as_of(config) or dt.datetime.now(dt.UTC).date()
    settings = config.stash[SETTINGS] = read_settings(
        _given(config),
        base_dir=config.inipath.parent if config.inipath else config.rootpath,
        today=today,
        environ=os.environ,
    )
    send_as_of(config, settings.as_of)  # under xdist: the workers judge as of this date
    _resolve_nodes(config, settings)
    engine = ProbeEngine(
        timeout=settings.timeout,
        concurrency=settings.concurrency,
        # Under xdist the run's per-host limit is split between the workers.
        host_limit=share_of(config, settings.host_limit),
        handshakes=settings.handshakes,
        reuse=not settings.fresh_connections,
    )
    ahead = ProbeAhead(engine, mode=settings.probe_ahead, config=config)
    if settings.live and not settings.is_fleet:
        # Items without a target of their own: the deployment's first node.
        ahead.session_target = settings.tested[0].target
    config.stash[AHEAD] = ahead


def _resolve_nodes(config: pytest.Config, settings: Settings) -> None:
    """Every deployment as its nodes: the names resolved once, on the controller (or a
    plain run), within the probe timeout; its workers take its answer, so that every
    worker collects the same items."""
    answers = answers_from_json(controller_value(config, "nodes"))
    if answers is None:
        names = [] if config.getoption("help") else names_to_resolve(settings.fleet)
        answers = resolve_names(names, timeout=settings.timeout)
    send_value(config, "nodes", answers_to_json(answers))
    try:
        settings.nodes = expand_nodes(settings.fleet, answers, max_nodes=settings.max_nodes)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    # An interrupted run (Ctrl-C, -x, --maxfail) drops what was probed ahead
    # before the reports are written; probes already running end within their timeout.
    ahead = session.config.stash.get(AHEAD, None)
    if ahead is not None:
        ahead.cancel()


def pytest_unconfigure(config: pytest.Config) -> None:
    ahead = config.stash.get(AHEAD, None)
    if ahead is not None:
        ahead.close()
