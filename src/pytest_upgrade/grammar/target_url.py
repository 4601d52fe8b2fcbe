"""A target's base URL as the probes can send it: :func:`parse_base_url`.

What a user writes (``--upgrade-target``, a targets line) is turned into the
parts an HTTP request carries, or refused with the reason; nothing is
dropped without a word:

* the scheme in any case (RFC 3986 §3.1: schemes are case-insensitive);
* an internationalised host name IDNA-encoded (RFC 5890/5891, Python's
  ``idna`` codec), since ``Host`` and SNI carry A-labels only (RFC 9110
  §7.2, RFC 6066 §3);
* a base path with characters a request-target cannot carry (a space,
  non-ASCII) percent-encoded as UTF-8 (RFC 3986 §2.1, §3.3); existing
  ``%XX`` escapes are kept, a ``%`` not followed by two hex digits refused;
* userinfo refused (RFC 9110 §4.2.4: a sender must not put it in an http(s)
  URI, and the probes would not send it), and so are a query and a fragment:
  a requirement's path is appended to the base path, which leaves a query
  nowhere to go, and a fragment is never sent (RFC 9110 §7.1).

Pure: a string in, the parts out, or ValueError naming what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

__all__ = ["BaseUrl", "parse_base_url"]

_SCHEMES = {"http": 80, "https": 443}
# RFC 3986 §3.3 pchar, and "/" between segments; "%" is checked separately.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_HOST_CHARS = re.compile(r"[A-Za-z0-9.\-]+")  # reg-name as DNS needs it, after IDNA
_MAX_PORT = 65535


@dataclass(frozen=True)
class BaseUrl:
    scheme: str  # "http" or "https"
    host: str  # ASCII: A-labels, an IPv4 address, or an IPv6 address without brackets
    port: int
    path: str  # percent-encoded, without a trailing "/"


def _host(raw: str, shown: str) -> str:
    if raw.startswith("["):  # urlsplit has checked it is an IPv6 address
        return raw[1:].split("]", 1)[0].lower()
    host = raw.rstrip(".") if raw.endswith(".") and len(raw) > 1 else raw
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            why = f"the host {raw!r} cannot be IDNA-encoded ({exc})"
            raise ValueError(f"{shown!r}: {why}") from None
    if not _HOST_CHARS.fullmatch(host):
        raise ValueError(f"{shown!r}: the host {raw!r} has characters a host name cannot have")
    return host.lower()


def parse_base_url(url: str) -> BaseUrl:
    """The parts of an http:// or https:// base URL; ValueError naming what is wrong.

    The error shows the URL with its credentials and query replaced by ``***``:
    they may hold a secret, and the message reaches the terminal and CI logs.
    """
    shown = _shown(url)
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:  # a bracketed host that is not an IPv6 address
        raise ValueError(f"{shown!r} is not an http:// or https:// URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES or not parts.netloc:
        raise ValueError(f"{shown!r} is not an http:// or https:// URL with a host")
    if "@" in parts.netloc:
        raise ValueError(
            f"{shown!r}: credentials in a target URL are not sent (RFC 9110 §4.2.4);"
            " give the URL without user:password@"
        )
    if parts.query or url.rstrip().endswith("?"):
        raise ValueError(
            f"{shown!r}: a target URL cannot carry a query (a requirement's path is"
            " appended to its path, and the query would be dropped); remove it"
        )
    if parts.fragment or "#" in url:
        raise ValueError(f"{shown!r}: a fragment is never sent (RFC 9110 §7.1); remove it")
    hostport = parts.netloc
    raw_host, _, raw_port = (
        hostport.rpartition(":")
        if hostport.rfind(":") > hostport.rfind("]")
        else (hostport, "", "")
    )
    if not raw_host:
        raise ValueError(f"{shown!r} is not an http:// or https:// URL with a host")
    if raw_port and not (raw_port.isascii() and raw_port.isdigit()):
        raise ValueError(f"{shown!r} has an invalid port: {raw_port!r}")
    port = int(raw_port) if raw_port else _SCHEMES[scheme]
    if not 0 < port <= _MAX_PORT:
        raise ValueError(f"{shown!r} has an invalid port: {raw_port!r}")
    if _BAD_PERCENT.search(parts.path):
        raise ValueError(f"{shown!r}: the path has a '%' that is not a %XX escape (RFC 3986 §2.1)")
    path = quote(parts.path, safe=_PATH_SAFE, encoding="utf-8").rstrip("/")
    return BaseUrl(scheme, _host(raw_host, shown), port, path)


_USERINFO = re.compile(r"(//)[^/?#]*@")
_QUERY = re.compile(r"\?[^#]*")


def _shown(url: str) -> str:
    """``url`` as an error may show it: user:password@ and the query as ``***``."""
    return _QUERY.sub("?***", _USERINFO.sub(r"\1***@", url.strip(), count=1), count=1)
