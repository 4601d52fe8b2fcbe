"""The validated configuration of one pytest run: :class:`Settings`."""

from __future__ import annotations

import datetime as dt
import pathlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from .._credentials import check_environment, merge, parse_header_line
from .._model import Requirement
from .._nodes import DEFAULT_MAX_NODES, parse_resolve
from .._proxies import parse_proxy_option
from .._requirements import parse_origin
from .._targets import Deployment, build_fleet
from ..checks.catalogue import REGISTRY
from ..grammar import parse_calendar_date
from ..probes.client_cert import check_client_certificate
from ..probes.engine import DEFAULT_HOST_LIMIT
from ..probes.target import HandshakeCache
from .written import declared_requirements, target_lines

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_TIMEOUT",
    "INI_NAMES",
    "OPTION_FLAGS",
    "PROBE_AHEAD_MODES",
    "SETTINGS",
    "Settings",
    "client_certificate",
    "read_settings",
]

DEFAULT_TIMEOUT = 5.0
DEFAULT_CONCURRENCY = 32
PROBE_AHEAD_MODES = ("declared", "all")
_MAX_CONCURRENCY = 256
_MAX_NODES = 4096


@dataclass
class Settings:
    """The validated configuration of one pytest run."""

    app: str | None
    # The live deployments (one as before fleets, or many); empty: the bundled server.
    fleet: tuple[Deployment, ...]
    cafile: str | None
    timeout: float
    strict: bool
    selected: tuple[str, ...] | None
    report_path: pathlib.Path | None
    as_of: dt.date
    declared: tuple[Requirement, ...]
    # --upgrade-header / upgrade_headers, as declared (${NAME} unexpanded).
    headers: tuple[tuple[str, str], ...] = ()
    # --upgrade-origin / upgrade_origin: the origin of requirements that name none.
    origin: str | None = None
    # Where each declared requirement was written: its line among the
    # upgrade_requirements values (1-based), absent for --upgrade-require only.
    declared_at: dict[Requirement, int] = field(default_factory=dict)
    # Those given with --upgrade-require: collected whatever the run selects.
    declared_on_command_line: frozenset[Requirement] = frozenset()
    concurrency: int = DEFAULT_CONCURRENCY  # requirements probed at once (glue.ahead)
    host_limit: int = DEFAULT_HOST_LIMIT  # connections at once to one host (probes.engine)
    probe_ahead: str = "declared"  # which items are probed ahead: "declared" or "all"
    handshakes: HandshakeCache = field(default_factory=HandshakeCache)
    require_all_checks: bool = False  # a must-check not run fails (--upgrade-require-all-checks)
    # Every probe opens its own connection (--upgrade-fresh-connections; probes.reuse).
    fresh_connections: bool = False
    # Addresses a name may resolve to before the run asks for them by name (_nodes).
    max_nodes: int = DEFAULT_MAX_NODES
    # The fleet's deployments as their nodes (_nodes.expand_nodes, once the names are
    # resolved: glue.lifecycle); empty until then.
    nodes: tuple[Deployment, ...] = ()

    @property
    def live(self) -> bool:
        """Whether the run checks live deployments (not the bundled server)."""
        return bool(self.fleet)

    @property
    def tested(self) -> tuple[Deployment, ...]:
        """What the run's items are made for: every node of every deployment."""
        return self.nodes or self.fleet

    @property
    def several_nodes(self) -> bool:
        """Whether a deployment has several nodes: test ids then name each node."""
        return any(d.node is not None for d in self.tested)

    @property
    def is_fleet(self) -> bool:
        """Whether there are several deployments: test ids then name each one."""
        return len(self.fleet) > 1


def _ids(values: list[str], option: str) -> set[str]:
    ids = {part.strip() for value in values for part in value.split(",") if part.strip()}
    unknown = sorted(ids - set(REGISTRY))
    if unknown:
        raise pytest.UsageError(
            f"{option}: unknown check id(s) {', '.join(unknown)}; known: {', '.join(REGISTRY)}"
        )
    return ids


# What :func:`read_settings` reads: each command-line option by its flag, each
# ini value by its name (the plugin modules of glue register them, each its
# feature's; glue.lifecycle gathers their values).
OPTION_FLAGS = (
    "--upgrade-app",
    "--upgrade-target",
    "--upgrade-targets-file",
    "--upgrade-resolve",
    "--upgrade-max-nodes",
    "--upgrade-header",
    "--upgrade-origin",
    "--upgrade-ca",
    "--upgrade-client-cert",
    "--upgrade-client-key",
    "--upgrade-timeout",
    "--upgrade-strict",
    "--upgrade-require-all-checks",
    "--upgrade-checks",
    "--upgrade-skip-checks",
    "--upgrade-require",
    "--upgrade-as-of",
    "--upgrade-concurrency",
    "--upgrade-host-limit",
    "--upgrade-fresh-connections",
    "--upgrade-probe-ahead",
    "--upgrade-report",
    "--upgrade-proxy",
)
INI_NAMES = (
    "upgrade_app",
    "upgrade_target",
    "upgrade_targets",
    "upgrade_max_nodes",
    "upgrade_requirements",
    "upgrade_headers",
    "upgrade_origin",
    "upgrade_ca",
    "upgrade_client_cert",
    "upgrade_client_key",
    "upgrade_timeout",
    "upgrade_strict",
    "upgrade_require_all_checks",
    "upgrade_concurrency",
    "upgrade_host_limit",
    "upgrade_fresh_connections",
    "upgrade_probe_ahead",
    "upgrade_proxy",
)


class _Values:
    """The options and ini values as given: a flag or ini name left out is unset."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        unknown = sorted(set(values) - {*OPTION_FLAGS, *INI_NAMES})
        if unknown:  # a misspelt key would be silently unset
            raise KeyError(f"not an option or ini value of pytest-upgrade: {', '.join(unknown)}")
        self._values = values

    def raw(self, name: str) -> Any:
        """One value as given (an empty string too), None when left out."""
        return self._values.get(name)

    def get(self, name: str) -> Any:
        """One value, None when unset (pytest's empty string of an unset ini value too)."""
        value = self._values.get(name)
        return None if value in (None, "") else value

    def lines(self, name: str) -> list[str]:
        """A repeatable option's values or a list-valued ini value, in order."""
        return list(self._values.get(name) or ())

    def pick(self, name: str) -> Any:
        """The command line's value (``--upgrade-ca``), else the ini file's (``upgrade_ca``)."""
        value = self.get("--" + name.replace("_", "-"))
        return value if value is not None else self.get(name)


def read_settings(
    values: Mapping[str, Any],
    *,
    base_dir: pathlib.Path,
    today: dt.date,
    environ: Mapping[str, str],
) -> Settings:
    """The run's settings from its options and ini values (a UsageError names a bad one).

    ``values`` maps each flag (``--upgrade-timeout``) and ini name
    (``upgrade_timeout``) given to its value, as pytest parsed it; ``base_dir``
    is where the ini file's paths start; ``today`` the date deadlines are
    judged as of without ``--upgrade-as-of``; ``environ`` gives ``${NAME}``.
    """
    given = _Values(values)
    cafile = given.pick("upgrade_ca")
    if cafile is not None and not pathlib.Path(cafile).is_file():
        raise pytest.UsageError(f"--upgrade-ca: no such file: {cafile}")
    headers = _run_headers(given, environ)
    client_cert = client_certificate(values)
    try:
        origin = parse_origin(given.pick("upgrade_origin"))
    except ValueError as exc:
        raise pytest.UsageError(f"--upgrade-origin: {exc}") from None
    proxy = _proxy(given)
    try:
        lines = target_lines(
            given.lines("--upgrade-target") or given.lines("upgrade_target"),
            given.get("--upgrade-targets-file"),
            given.lines("upgrade_targets"),
            base_dir=base_dir,
            environ=environ,
        )
        fleet = build_fleet(
            lines,
            cafile=cafile,
            headers=headers,
            client_cert=client_cert,
            proxy=proxy,
            environ=environ,
            resolve=_resolve(given.lines("--upgrade-resolve")),
        )
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    timeout = _timeout(given)
    only = _ids(given.lines("--upgrade-checks"), "--upgrade-checks")
    skip = _ids(given.lines("--upgrade-skip-checks"), "--upgrade-skip-checks")
    selected: tuple[str, ...] | None = None
    if only or skip:
        selected = tuple(i for i in REGISTRY if (not only or i in only) and i not in skip)
    report = given.get("--upgrade-report")
    probe_ahead = given.pick("upgrade_probe_ahead") or "declared"
    if probe_ahead not in PROBE_AHEAD_MODES:
        raise pytest.UsageError(
            f"--upgrade-probe-ahead: expected {' or '.join(PROBE_AHEAD_MODES)}, got {probe_ahead!r}"
        )
    declared_at, on_command_line = declared_requirements(
        given.lines("upgrade_requirements"), given.lines("--upgrade-require"), origin, environ
    )
    return Settings(
        declared=tuple(dict.fromkeys([*declared_at, *on_command_line])),
        declared_at=declared_at,
        declared_on_command_line=frozenset(on_command_line),
        origin=origin,
        concurrency=_count(given, "concurrency", DEFAULT_CONCURRENCY, _MAX_CONCURRENCY),
        max_nodes=_count(given, "max_nodes", DEFAULT_MAX_NODES, _MAX_NODES),
        host_limit=_count(given, "host_limit", DEFAULT_HOST_LIMIT, _MAX_CONCURRENCY),
        probe_ahead=probe_ahead,
        app=given.pick("upgrade_app"),
        fleet=fleet,
        headers=headers,
        cafile=cafile,
        timeout=timeout,
        strict=_flag(given, "upgrade_strict"),
        require_all_checks=_flag(given, "upgrade_require_all_checks"),
        fresh_connections=_flag(given, "upgrade_fresh_connections"),
        selected=selected,
        report_path=pathlib.Path(report) if report else None,
        as_of=_as_of(given.raw("--upgrade-as-of"), today),
    )


def _proxy(given: _Values) -> str | None:
    """--upgrade-proxy (else upgrade_proxy) as given, checked: an http:// URL or none."""
    raw = given.raw("--upgrade-proxy")
    value: str | None = raw if raw is not None else given.get("upgrade_proxy")
    if value is not None:
        try:
            parse_proxy_option(value)
        except ValueError as exc:
            raise pytest.UsageError(f"--upgrade-proxy: {exc}") from None
    return value


def client_certificate(values: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """The run's client certificate and key file (None: none given), checked; a
    one-line ``pytest.UsageError`` names a file that is missing or does not load.

    ``values`` as :func:`read_settings` takes them: ``--upgrade-client-cert`` and
    ``--upgrade-client-key`` win over the ini values ``upgrade_client_cert`` and
    ``upgrade_client_key`` (``glue.client_certificates`` registers all four).
    """
    given = _Values(values)
    cert = given.pick("upgrade_client_cert")
    key = given.pick("upgrade_client_key")
    if cert is None:
        if key is not None:
            raise pytest.UsageError(
                "--upgrade-client-key is the key of --upgrade-client-cert:"
                " give --upgrade-client-cert=PEM too"
            )
        return None
    try:
        check_client_certificate(cert, key, option="--upgrade-client-cert")
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    return cert, key


def _flag(given: _Values, name: str) -> bool:
    """A store_true option (None when not given), else its bool ini value."""
    value = given.get("--" + name.replace("_", "-"))
    return bool(value if value is not None else given.get(name))


def _timeout(given: _Values) -> float:
    raw = given.pick("upgrade_timeout")
    try:
        timeout = float(raw) if raw is not None else DEFAULT_TIMEOUT
    except ValueError:
        raise pytest.UsageError(f"--upgrade-timeout: not a number: {raw!r}") from None
    if not 0 < timeout <= 600:
        raise pytest.UsageError(
            f"--upgrade-timeout: must be between 0 and 600 seconds, got {timeout:g}"
        )
    return timeout


def _as_of(raw: str | None, today: dt.date) -> dt.date:
    """The run's one evaluation date: ``--upgrade-as-of``, else ``today``.

    The controller reads the clock once and its workers judge as of its date
    (``glue.workers``): a run that crosses midnight judges one day.
    """
    if raw is None:
        return today
    day = parse_calendar_date(raw)
    if day is None:
        unset = " (empty: an unset variable?)" if not raw.strip() else ""
        raise pytest.UsageError(f"--upgrade-as-of: expected a date YYYY-MM-DD, got {raw!r}{unset}")
    return day


def _run_headers(given: _Values, environ: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """--upgrade-header lines, after the upgrade_headers ini lines; every ${NAME} set."""
    sources = [
        (f"upgrade_headers line {n}", line)
        for n, line in enumerate(given.lines("upgrade_headers"), 1)
    ]
    sources += [("--upgrade-header", line) for line in given.lines("--upgrade-header")]
    headers: tuple[tuple[str, str], ...] = ()
    for where, line in sources:
        if not line.strip():
            continue
        try:
            header = parse_header_line(line)
            check_environment([header], environ)
        except ValueError as exc:
            raise pytest.UsageError(f"{where}: {exc}") from None
        headers = merge(headers, (header,))
    return headers


def _count(given: _Values, name: str, default: int, maximum: int) -> int:
    """A whole number from 1 to ``maximum`` (--upgrade-concurrency, --upgrade-host-limit)."""
    option = "--upgrade-" + name.replace("_", "-")
    raw = given.pick(f"upgrade_{name}")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise pytest.UsageError(f"{option}: not a whole number: {raw!r}") from None
    if not 1 <= value <= maximum:
        raise pytest.UsageError(f"{option}: must be between 1 and {maximum}, got {value}")
    return value


def _resolve(values: list[str]) -> dict[tuple[str, int], tuple[str, ...]]:
    """--upgrade-resolve values: the addresses of each name and port (a repeat adds)."""
    resolve: dict[tuple[str, int], tuple[str, ...]] = {}
    for value in values:
        try:
            name, addresses = parse_resolve(value)
        except ValueError as exc:
            raise pytest.UsageError(f"--upgrade-resolve: {exc}") from None
        resolve[name] = tuple(dict.fromkeys([*resolve.get(name, ()), *addresses]))
    return resolve


SETTINGS = pytest.StashKey[Settings]()
