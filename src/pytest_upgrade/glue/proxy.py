"""pytest wiring of egress proxies: ``--upgrade-proxy=URL`` (ini ``upgrade_proxy``), and
the report header's line saying which deployments are probed through which proxy.

Which proxy a deployment uses (the option, a targets-file line's ``proxy=``, the
environment as curl reads it) is decided by ``_proxies.choose_proxy`` when the
settings are read (``glue.settings.read_settings``); the probes tunnel through it
(``probes.proxy``).
"""

from __future__ import annotations

from collections import Counter

import pytest

from .settings import SETTINGS

__all__: list[str] = []  # a pytest plugin: hooks only

_LISTED = 5  # deployments named one by one in the header; more are counted


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("upgrade")
    group.addoption(
        "--upgrade-proxy",
        metavar="URL",
        help="tunnel every TCP probe of the live targets through this HTTP proxy (CONNECT):"
        " http://[USER:PASSWORD@]HOST:PORT, or 'none' for direct connections. Without it,"
        " https_proxy/HTTPS_PROXY, http_proxy, ALL_PROXY and NO_PROXY apply, as curl reads"
        " them. Credentials are never shown.",
    )
    parser.addini("upgrade_proxy", "HTTP proxy (CONNECT) for the live targets' probes, or none.")


def pytest_report_header(config: pytest.Config) -> list[str]:
    """``upgrade: https://a.example through proxy HOST:PORT``, for each proxied deployment."""
    settings = config.stash.get(SETTINGS, None)
    if settings is None:
        return []
    proxied = [
        (d.target.label, d.target.proxy.proxy.authority)
        for d in settings.fleet
        if d.target.proxy is not None
    ]
    if len(proxied) <= _LISTED:
        return [f"upgrade: {label} through proxy {proxy}" for label, proxy in proxied]
    counts = Counter(proxy for _, proxy in proxied)
    total = len(settings.fleet)
    return [
        f"upgrade: {n} of {total} deployments through proxy {proxy}"
        for proxy, n in counts.most_common()
    ]
