"""Where a probe goes (:class:`Endpoint`) and whom it trusts (:class:`ClientTrust`)."""

from __future__ import annotations

import ssl
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

from ..grammar.target_url import parse_base_url
from .client_cert import load_client_certificate, watch_certificate_requests
from .tls_versions import set_versions

__all__ = ["TLS_VERSIONS", "ClientTrust", "Endpoint", "given_cafile", "offered_certificate"]

TLS_VERSIONS = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}


@dataclass(frozen=True)
class Endpoint:
    """Where a probe connects: the scheme, host and port of one base URL."""

    scheme: str
    host: str
    port: int
    base_path: str = ""

    @classmethod
    def from_url(cls, url: str) -> Endpoint:
        """The endpoint of a base URL, as HTTP carries it (``grammar.target_url``):
        ValueError for what it cannot carry (userinfo, a query, a fragment)."""
        parts = parse_base_url(url)
        return cls(parts.scheme, parts.host, parts.port, parts.path)

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.authority}{self.base_path}{path}"

    def target(self, path: str) -> str:
        """The request-target for ``path`` (origin-form, RFC 9112 §3.2.1)."""
        return f"{self.base_path}{path}"


# The CA file each context of a ClientTrust was built from, for failure advice
# that fits (a CA file given that does not issue the certificate, or none given).
_GIVEN_CAFILE: weakref.WeakKeyDictionary[ssl.SSLContext, str] = weakref.WeakKeyDictionary()


# The client certificate file each context offers, for failure advice.
_OFFERED_CERT: weakref.WeakKeyDictionary[ssl.SSLContext, str] = weakref.WeakKeyDictionary()


def given_cafile(context: ssl.SSLContext) -> str | None:
    """The CA file (``--upgrade-ca``, ``ca=``) ``context`` trusts instead of the system store."""
    return _GIVEN_CAFILE.get(context)


def offered_certificate(context: ssl.SSLContext) -> str | None:
    """The client certificate file (``--upgrade-client-cert``, ``cert=``) ``context`` offers."""
    return _OFFERED_CERT.get(context)


class ClientTrust:
    """Which certificates the probes trust, and the client TLS contexts built from it.

    Contexts are built once and cached (the system trust store takes about
    30 ms to load). Each cached context has a fixed ALPN list and is used only
    by the probes of this module, which never hand it to a library that
    would change its ALPN under us (httpcore does that to contexts it is given).
    Certificate verification is always on. A client certificate (``cert``, with its
    key in it or in ``key``) is loaded into every context, so every handshake a
    probe makes offers it to a server that asks (:mod:`.client_cert`).
    """

    def __init__(
        self, cafile: str | None = None, cert: str | None = None, key: str | None = None
    ) -> None:
        if key is not None and cert is None:
            raise ValueError("a client key needs its certificate")
        self.cafile = cafile
        self.cert = cert
        self.key = key
        self._contexts: dict[
            tuple[tuple[str, ...], str | None, str | None, bool], ssl.SSLContext
        ] = {}

    def _base_context(self) -> ssl.SSLContext:
        if self.cafile is None:
            context = ssl.create_default_context()
        else:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.load_verify_locations(cafile=self.cafile)
        # RFC 5280 §6.1: a trust anchor need not be self-signed. With this flag
        # an intermediate CA in the CA file ends the chain as curl (and Python
        # 3.13's default context) let it; a root works as before.
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        watch_certificate_requests(context)
        if self.cafile is not None:
            _GIVEN_CAFILE[context] = self.cafile
        if self.cert is not None:
            load_client_certificate(context, self.cert, self.key)
            _OFFERED_CERT[context] = self.cert
        return context

    def alike(self) -> ClientTrust:
        """A new trust with the same CA file and client certificate (contexts of its own)."""
        return ClientTrust(self.cafile, self.cert, self.key)

    def context(
        self,
        alpn: Sequence[str] = (),
        version: str | None = None,
        minimum: str | None = None,
        *,
        check_hostname: bool = True,
    ) -> ssl.SSLContext:
        """A verifying client context offering ``alpn``.

        ``version`` pins the one TLS version offered; ``minimum`` offers that
        version and every later one. ``check_hostname=False`` is for a version
        handshake sent without the server name (SNI): it sends no request, and
        its verdict is read from the ServerHello, before any certificate; the
        chain is still verified. Raises ``ssl.SSLError`` or ``ValueError``
        when this Python/OpenSSL cannot be configured so.
        """
        key = (tuple(alpn), version, minimum, check_hostname)
        context = self._contexts.get(key)
        if context is None:
            context = self._base_context()
            context.check_hostname = check_hostname
            if alpn:
                context.set_alpn_protocols(list(alpn))
            if version is not None:
                _pin_version(context, TLS_VERSIONS[version])
            elif minimum is not None:
                context.minimum_version = TLS_VERSIONS[minimum]
            self._contexts[key] = context
        return context


def _pin_version(context: ssl.SSLContext, version: ssl.TLSVersion) -> None:
    set_versions(context, version, version)
