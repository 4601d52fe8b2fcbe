"""Which egress proxy a deployment's probes go through, as curl chooses one.

In this order, the first that says something decides:

1. the deployment's ``proxy=URL`` field on its targets-file line (``proxy=none``:
   direct);
2. the run's ``--upgrade-proxy=URL`` (ini ``upgrade_proxy``; ``none``: direct, the
   environment ignored);
3. the environment, as curl reads it (:func:`environment_proxy`): for an https
   URL ``https_proxy``, then ``HTTPS_PROXY``; for an http URL ``http_proxy`` only
   (lowercase: a CGI program's ``HTTP_PROXY`` would be a client's ``Proxy:``
   header); then ``all_proxy``, ``ALL_PROXY``; unless ``no_proxy`` (else
   ``NO_PROXY``) lists the host (:func:`no_proxy_matches`).

A deployment's URLs share one way there: its proxy is chosen for its primary URL
(the https one when it has both) and carries its http URL's probes too. Unlike
curl, ``NO_PROXY`` governs only the environment's proxies, not a proxy named
with ``--upgrade-proxy`` or ``proxy=``. curl does not leave out ``localhost``
by itself, and neither does this: a loopback target goes through the proxy
unless ``NO_PROXY`` names it.

Pure: the environment is handed in as a mapping.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from .probes.endpoint import Endpoint
from .probes.proxy import Proxy, parse_proxy_url

__all__ = ["DIRECT", "choose_proxy", "environment_proxy", "no_proxy_matches", "parse_proxy_option"]

DIRECT = "none"  # the value that turns the proxy off (curl's --noproxy '*' for the one target)


def parse_proxy_option(value: str) -> Proxy | None:
    """A ``--upgrade-proxy`` / ``proxy=`` value: a proxy, or None for ``none``.

    ValueError (never repeating credentials) for what is not an http:// proxy URL.
    """
    if value.strip().lower() == DIRECT:
        return None
    if not value.strip():
        raise ValueError("empty proxy URL (an unset variable?); give http://HOST:PORT or none")
    return parse_proxy_url(value)


def choose_proxy(
    endpoint: Endpoint,
    *,
    line: str | None,
    run: str | None,
    environ: Mapping[str, str],
) -> Proxy | None:
    """The proxy of a deployment whose primary URL is ``endpoint``, or None (direct).

    ``line`` is its ``proxy=`` field and ``run`` the run's ``--upgrade-proxy``, as
    given (None: not given). ValueError says which one is not a usable proxy URL.
    """
    for where, value in (("proxy=", line), ("--upgrade-proxy", run)):
        if value is not None:
            try:
                return parse_proxy_option(value)
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from None
    return environment_proxy(endpoint, environ)


def _variables(scheme: str) -> tuple[str, ...]:
    # curl: "<scheme>_proxy", then in capitals except HTTP_PROXY; then all_proxy, ALL_PROXY.
    own = ("http_proxy",) if scheme == "http" else (f"{scheme}_proxy", f"{scheme.upper()}_PROXY")
    return (*own, "all_proxy", "ALL_PROXY")


def environment_proxy(endpoint: Endpoint, environ: Mapping[str, str]) -> Proxy | None:
    """The proxy the environment names for ``endpoint``, as curl reads it (see the module).

    A variable set but empty means no proxy, as curl takes it. ValueError names
    the variable whose value is not a usable proxy URL.
    """
    no_proxy = environ.get("no_proxy", environ.get("NO_PROXY"))
    if no_proxy is not None and no_proxy_matches(endpoint.host, no_proxy):
        return None
    for name in _variables(endpoint.scheme):
        value = environ.get(name)
        if value is None:
            continue
        if not value.strip():
            return None
        try:
            return parse_proxy_url(value)
        except ValueError as exc:
            raise ValueError(f"the environment's {name}: {exc}") from None
    return None


def no_proxy_matches(host: str, no_proxy: str) -> bool:
    """Whether ``no_proxy`` (a ``NO_PROXY`` value) leaves ``host`` out of the proxy.

    As recent curl reads it: names separated by commas (or blanks); ``*`` alone
    matches every host; a name matches itself and its subdomains, with or
    without a leading dot (``example.com`` and ``.example.com`` both match
    ``api.example.com``), case-insensitively; an IP address matches itself and
    a CIDR range (``10.0.0.0/8``, ``fd00::/8``) the addresses in it. The port
    is not considered.
    """
    entries = [e.lower() for e in no_proxy.replace(",", " ").split() if e]
    if entries == ["*"]:
        return True
    name = host.strip("[]").rstrip(".").lower()
    address = _address(name)
    if address is not None:
        return any(_in_range(address, entry.strip("[]")) for entry in entries)
    domains = (entry.lstrip(".").rstrip(".") for entry in entries)
    return any(d and (name == d or name.endswith("." + d)) for d in domains)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _in_range(address: ipaddress.IPv4Address | ipaddress.IPv6Address, entry: str) -> bool:
    try:
        network = ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False  # a name, or not an address: it cannot match an address
    return network.version == address.version and address in network
