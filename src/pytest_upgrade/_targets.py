"""Fleets: the deployments of one run, from ``--upgrade-target`` URLs and target lines.

A *deployment* is one https and/or one http base URL of the same service, and
whom to trust for it. A run checks one deployment (as before fleets) or many;
each (deployment, requirement) pair is then its own test item, named by the
deployment's :attr:`Deployment.name`.

Two ways to name deployments:

* target lines (``--upgrade-targets-file``, the ``upgrade_targets`` ini
  option), one deployment a line, unambiguous::

      # name=…, ca=…, cert=…, key=…, resolve=…, proxy=… are optional; '#' starts a comment
      https://a.example  http://a.example:8080  ca=certs/a-ca.pem  name=a
      https://b.example/api  cert=certs/client.pem  resolve=192.0.2.11,192.0.2.12
      https://c.example  proxy=http://proxy.corp.example:3128

* ``--upgrade-target`` URLs (the ``upgrade_target`` ini option), grouped by
  :func:`group_urls`: an https and an http URL given next to each other for
  the same host are one deployment; any other URL is a deployment of its own.
  Exactly one https and one http URL stay one deployment whatever their hosts
  (their meaning before fleets).

Pure: no I/O but checking that a named CA file exists, and that a named client
certificate and key load (``probes.client_cert``).
"""

from __future__ import annotations

import ipaddress
import pathlib
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ._credentials import merge, parse_header_line
from ._proxies import choose_proxy, parse_proxy_option
from .probes.client_cert import check_client_certificate
from .probes.endpoint import ClientTrust, Endpoint
from .probes.target import Target

__all__ = [
    "Deployment",
    "build_fleet",
    "group_urls",
    "parse_addresses",
    "parse_target_line",
]

_SCHEMES = ("https://", "http://")


@dataclass(frozen=True)
class TargetLine:
    """One deployment as written: its URLs, its CA file and its name, if any."""

    urls: tuple[str, ...]
    cafile: str | None = None
    name: str | None = None
    where: str = "--upgrade-target"  # "FILE:LINE", for error messages
    headers: tuple[tuple[str, str], ...] = ()  # header="Name: value", as written
    cert: str | None = None  # cert=PEM: the client certificate (and its key, or key=)
    key: str | None = None  # key=PEM: the client certificate's key, when separate
    resolve: tuple[str, ...] = ()  # resolve=ADDR,...: the nodes' addresses, no DNS lookup
    # proxy=URL as written (credentials too: never shown), "none" for direct; None: not given.
    proxy: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Deployment:
    """One deployment of a run: the name its test ids carry, and where its probes go."""

    name: str
    target: Target
    where: str
    # The nodes' addresses given (resolve=, --upgrade-resolve): not looked up (_nodes).
    addresses: tuple[str, ...] = ()
    # One node of several: its address, which the test ids carry (_nodes.expand_nodes).
    node: str | None = None
    # Why the deployment's name has no address (the resolver's answer), if it has none.
    unresolved: str | None = None


def parse_target_line(
    line: str, *, where: str, base_dir: pathlib.Path | None = None
) -> TargetLine | None:
    """A target line's URLs, ``ca=``, ``name=``, ``header=``, ``cert=``, ``key=`` and
    ``resolve=`` and ``proxy=`` (None for a blank or comment line).

    Words are split as a shell splits them (``header="X-Api-Key: ${KEY}"``).
    Raises ValueError naming the bad token. A relative ``ca=``, ``cert=`` or
    ``key=`` path is taken from ``base_dir`` (the targets file's directory).
    """
    text = line.split(" #", 1)[0].split("\t#", 1)[0].strip()
    if not text or text.startswith("#"):
        return None
    urls: list[str] = []
    cafile: str | None = None
    name: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    files: dict[str, str] = {}
    proxy: str | None = None
    resolve: tuple[str, ...] = ()
    try:
        tokens = shlex.split(text)
    except ValueError as exc:  # "No closing quotation"
        raise ValueError(f"cannot split the line into words: {exc}") from None
    for token in tokens:
        key, equals, value = token.partition("=")
        if token.lower().startswith(_SCHEMES):  # a scheme in any case (RFC 3986 §3.1)
            Endpoint.from_url(token)  # ValueError: not a usable URL
            urls.append(token)
        elif equals and key == "ca" and value:
            cafile = _file(key, value, base_dir)
        elif equals and key in ("cert", "key") and value:
            files[key] = _file(key, value, base_dir)
        elif equals and key == "name" and value:
            name = value
        elif equals and key == "header":
            header = parse_header_line(value)
            if header[0].lower() in (n.lower() for n, _ in headers):
                raise ValueError(f"header {header[0]!r} is given twice")
            headers += (header,)
        elif equals and key == "proxy":
            try:
                parse_proxy_option(value)  # ValueError: not an http:// proxy URL, nor none
            except ValueError as exc:
                raise ValueError(f"proxy=: {exc}") from None
            proxy = value
        elif equals and key == "resolve":
            resolve = _resolve_field(value)
        else:
            raise ValueError(
                f"unexpected {_shown_token(token)}: a line is an https URL and/or an http URL,"
                ' then optionally ca=PEM, name=NAME, header="Name: value", cert=PEM, key=PEM,'
                " resolve=ADDR[,ADDR...] and proxy=URL"
            )
    if not urls:
        raise ValueError("no http:// or https:// URL on the line")
    cert, client_key = _client_certificate(files)
    return TargetLine(tuple(urls), cafile, name, where, headers, cert, client_key, resolve, proxy)


def _resolve_field(value: str) -> tuple[str, ...]:
    try:
        return parse_addresses(value)
    except ValueError as exc:
        raise ValueError(f"resolve={value}: {exc}") from None


def parse_addresses(text: str) -> tuple[str, ...]:
    """``ADDR[,ADDR...]``: IP addresses (an IPv6 one in brackets or not), in order, once
    each. ValueError names the bad one."""
    addresses: list[str] = []
    for part in text.split(","):
        word = part.strip()
        bare = word[1:-1] if word.startswith("[") and word.endswith("]") else word
        address = _ip(bare)
        if address is None or (bare != word and address.version == 4):
            raise ValueError(f"{word!r} is not an IP address (a name is not resolved here)")
        if str(address) not in addresses:
            addresses.append(str(address))
    return tuple(addresses)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _shown_token(token: str) -> str:
    """A token an error repeats: a URL's userinfo (a proxy's password, say) left out."""
    scheme, sep, rest = token.partition("://")
    authority, slash, path = rest.partition("/")
    if sep and "@" in authority:
        return repr(f"{scheme}{sep}***@{authority.rsplit('@', 1)[1]}{slash}{path}")
    return repr(token)


def _file(field: str, value: str, base_dir: pathlib.Path | None) -> str:
    """The file a ``ca=``, ``cert=`` or ``key=`` field names (relative: from ``base_dir``)."""
    path = pathlib.Path(value).expanduser()
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    if not path.is_file():
        raise ValueError(f"{field}={value}: no such file: {path}")
    return str(path)


def _client_certificate(files: dict[str, str]) -> tuple[str | None, str | None]:
    """A line's ``cert=`` and ``key=``, checked: they load, and the key matches."""
    cert, key = files.get("cert"), files.get("key")
    if cert is None:
        if key is not None:
            raise ValueError("key= is the key of a cert=: give cert=PEM on the line too")
        return None, None
    check_client_certificate(cert, key, option="cert=")
    return cert, key


def group_urls(urls: Sequence[str]) -> list[tuple[str, ...]]:
    """``--upgrade-target`` URLs grouped into deployments (see the module's docstring)."""
    endpoints = [Endpoint.from_url(url) for url in urls]  # ValueError: not a URL
    schemes = sorted(e.scheme for e in endpoints)
    if schemes == ["http", "https"]:
        return [tuple(urls)]  # one deployment, as before fleets
    groups: list[tuple[str, ...]] = []
    index = 0
    while index < len(urls):
        here = endpoints[index]
        if index + 1 < len(urls):
            after = endpoints[index + 1]
            if after.scheme != here.scheme and after.host == here.host:
                groups.append((urls[index], urls[index + 1]))
                index += 2
                continue
        groups.append((urls[index],))
        index += 1
    return groups


def build_fleet(
    lines: Iterable[TargetLine],
    *,
    cafile: str | None,
    headers: tuple[tuple[str, str], ...] = (),
    client_cert: tuple[str, str | None] | None = None,
    resolve: Mapping[tuple[str, int], tuple[str, ...]] | None = None,
    proxy: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Deployment, ...]:
    """The run's deployments; ValueError (naming the line) for a bad or repeated one.

    Deployments trusting the same CA and offering the same client certificate
    share one :class:`ClientTrust`, so its TLS contexts (about 30 ms each to
    build from the system store) are built once for the fleet, not once per
    host. ``cafile`` is the run's ``--upgrade-ca``, for lines without their own
    ``ca=``; ``headers`` the run's ``--upgrade-header`` lines, which a line's own
    ``header=`` override; ``client_cert`` the run's ``--upgrade-client-cert`` (and
    ``--upgrade-client-key``), for lines without their own ``cert=``; ``resolve`` the
    run's ``--upgrade-resolve`` addresses by (name, port) of a deployment's primary URL,
    which a line's own ``resolve=`` overrides (one naming no deployment is a
    ValueError: a mistyped name or port); ``proxy`` the run's ``--upgrade-proxy`` (a
    line's ``proxy=`` wins) and ``environ`` the environment whose proxy variables apply
    without either (``_proxies.choose_proxy``; None: none apply).
    """
    resolve = resolve or {}
    used: set[tuple[str, int]] = set()
    trusts: dict[tuple[str | None, str | None, str | None], ClientTrust] = {}
    deployments: list[Deployment] = []
    names: dict[str, str] = {}
    for line in lines:
        trusted = line.cafile or cafile
        cert, key = (line.cert, line.key) if line.cert else (client_cert or (None, None))
        trust = trusts.setdefault((trusted, cert, key), ClientTrust(trusted, cert, key))
        try:
            target = Target.from_urls(line.urls, trust=trust, headers=merge(headers, line.headers))
            target = target.through(
                choose_proxy(target.primary, line=line.proxy, run=proxy, environ=environ or {})
            )
        except ValueError as exc:
            raise ValueError(f"{line.where}: {exc}") from None
        primary = (target.primary.host.lower(), target.primary.port)
        if primary in resolve:
            used.add(primary)
        addresses = line.resolve or resolve.get(primary, ())
        name = line.name or _default_name(target)
        if name in names:
            raise ValueError(
                f"{line.where}: a second deployment named {name!r} (first: {names[name]});"
                " give one of them name=NAME"
            )
        names[name] = line.where
        deployments.append(Deployment(name, target, line.where, addresses))
    unused = sorted(resolve.keys() - used)
    if unused:
        host, port = unused[0]
        raise ValueError(
            f"--upgrade-resolve={host}:{port}:...: no deployment's https URL (or http URL,"
            f" when it has no https one) is on {host}:{port}"
        )
    return tuple(deployments)


def _default_name(target: Target) -> str:
    """The primary URL's host (and port, and path), as test ids show it."""
    primary = target.primary
    return f"{primary.authority}{primary.base_path}"
