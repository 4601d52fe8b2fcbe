"""The reproduce commands of a requirement: the curl and ``openssl s_client`` command
lines that make each probe's request again by hand, through the same node, proxy
and client certificate (credentials as environment references, never their values).
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from urllib.parse import urlsplit

from .._credentials import references
from .._model import Exchange, Observation, Offer, Route

__all__ = ["reproduce_commands"]


def _curl_version(offer: Offer) -> str | None:
    """The curl option that offers the HTTP version(s) the probe offered."""
    if (offer.websocket and offer.http_versions[0] == "2") or (offer.tls_upgrade and offer.tls):
        return None  # curl makes neither an extended CONNECT nor an in-band TLS upgrade
    if offer.websocket:
        return "--http1.1"  # the RFC 6455 handshake is an HTTP/1.1 request
    first = offer.http_versions[0]
    if first == "3":
        # To the origin's host and port over UDP: the advertised endpoint when it is there.
        return "--http3-only"
    if first == "2":
        return "--http2" if offer.tls else "--http2-prior-knowledge"
    return {"1.1": "--http1.1", "1.0": "--http1.0"}.get(first)


def _bracketed(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def _node_words(url: str, observation: Observation) -> list[str]:
    """What makes curl connect where the probe did: ``--resolve HOST:PORT:ADDR`` when it
    went to a node's address (a URL on the resolved name), ``-g`` for an IPv6 literal
    URL (curl reads its brackets as a glob otherwise)."""
    parts = urlsplit(url)
    words = ["-g"] if parts.hostname and ":" in parts.hostname else []
    address = observation.route.address
    if address is not None and parts.hostname and parts.hostname == _resolved_name(observation):
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if observation.route.proxy is not None:
            # Through a proxy curl does not resolve the name itself (--resolve would not
            # apply): --connect-to makes its CONNECT ask for the address, as the probe's.
            words += ["--connect-to", f"{parts.hostname}:{port}:{_bracketed(address)}:{port}"]
        else:
            words += ["--resolve", f"{parts.hostname}:{port}:{_bracketed(address)}"]
    return words


def _resolved_name(observation: Observation) -> str:
    """The name a node's address stands for: the host of the target's first URL (its
    https URL, else its http one: ``probes.target.Target.address_for``)."""
    first = observation.target.split(" and ", 1)[0]
    return (urlsplit(first).hostname or "").lower()


def _curl(
    exchange: Exchange,
    offer: Offer,
    cafile: str | None,
    version_flag: str,
    observation: Observation,
) -> str:
    route = observation.route
    url = exchange.url.replace("wss://", "https://", 1).replace("ws://", "http://", 1)
    words = ["curl", "-sv", version_flag, *_node_words(url, observation)]
    if route.proxy is not None and not offer.quic:
        # Every probe tunnels (CONNECT); curl tunnels an http:// URL only when told to.
        words += ["--proxy", route.proxy, "--proxytunnel"]
    if offer.tls and not offer.alpn:
        words.append("--no-alpn")  # as the probe: no ALPN at all (curl offers one by default)
    if offer.tls_minimum in ("TLSv1.2", "TLSv1.3"):
        words.append("--tlsv" + offer.tls_minimum.removeprefix("TLSv"))
    if url.startswith("https://") and cafile:
        words += ["--cacert", cafile]
    if url.startswith("https://"):
        words += _client_certificate(route, "--")
    if exchange.method == "HEAD":
        words.append("--head")
    elif exchange.method != "GET":
        words += ["-X", exchange.method]
    if offer.tls_upgrade:
        words += ["--request-target", "*"]  # RFC 2817 §3.2: OPTIONS *, shows the 101
    probe_set = {"host", "user-agent", "accept"}
    headers = [
        "-H " + _shell_word(f"{name}: {value}")
        for name, value in exchange.request_headers
        if name.lower() not in probe_set
    ]
    if route.proxy_auth and not offer.quic:
        headers.insert(0, "--proxy-user " + _shell_word(_PROXY_USER))
    tail = ["--max-time", "5"] if offer.websocket else []  # after a 101 curl would wait
    tail += ["-o", "/dev/null", url]
    return " ".join([shlex.join(words), *headers, shlex.join(tail)])


def _shell_word(argument: str) -> str:
    """``argument`` quoted for a POSIX shell; ``${NAME}`` references left for it to expand."""
    if not references([("", argument)]):
        return shlex.quote(argument)
    # Inside double quotes only $, `, \ and " are special: escape all but the references.
    escaped = re.sub(r'[`\\"]', lambda m: "\\" + m[0], argument)
    escaped = re.sub(r"\$(?!\{[A-Za-z_][A-Za-z0-9_]*\})", r"\\$", escaped)
    return f'"{escaped}"'


_OPENSSL_FLAGS = {
    "TLSv1": "-tls1",
    "TLSv1.1": "-tls1_1",
    "TLSv1.2": "-tls1_2",
    "TLSv1.3": "-tls1_3",
}


# The proxy's credentials are never shown: the commands take them from the environment.
_PROXY_USER = "${UPGRADE_PROXY_USER}:${UPGRADE_PROXY_PASSWORD}"


def reproduce_commands(observation: Observation, *, cafile: str | None) -> list[str]:
    """curl and openssl commands that make the same exchanges by hand (through the
    route's proxy, when there is one: its credentials, if any, from the environment's
    ``UPGRADE_PROXY_USER`` and ``UPGRADE_PROXY_PASSWORD``)."""
    commands: list[str] = []
    route = observation.route
    for exchange in observation.exchanges:
        offer = exchange.offer
        if not exchange.url or offer is None:
            continue
        flag = _curl_version(offer)
        if flag is not None:
            commands.append(_curl(exchange, offer, cafile, flag, observation))
    https_exchange = next((e for e in observation.exchanges if e.url.startswith("https://")), None)
    if observation.handshakes and https_exchange is not None:
        parts = urlsplit(https_exchange.url)
        host = parts.hostname or ""
        address = observation.route.address
        # To the node when the probe went there, naming the name (SNI) as it did.
        on_node = address is not None and host == _resolved_name(observation)
        connect = address if address is not None and on_node else host
        host_port = f"{_bracketed(connect)}:{parts.port or 443}"  # s_client's own default: 4433
        for handshake in observation.handshakes:
            words = ["openssl", "s_client", "-connect", host_port]
            # The server name and ALPN as the handshake offered them (no SNI for an IP
            # literal, RFC 6066 §3): the command gets the answer the probe got.
            named = handshake.sni and not _is_ip(host)
            words += ["-servername", host] if named else ["-noservername"]
            words.append(_OPENSSL_FLAGS[handshake.version])
            if handshake.alpn:
                words += ["-alpn", ",".join(handshake.alpn)]
            if handshake.version in ("TLSv1", "TLSv1.1"):
                words += ["-cipher", "DEFAULT:@SECLEVEL=0"]
            if cafile:
                words += ["-CAfile", cafile]
            words += _client_certificate(route, "-")
            commands.append(shlex.join(words) + _openssl_proxy(route) + " </dev/null")
    return commands


def _openssl_proxy(route: Route) -> str:
    """``-proxy HOST:PORT`` (OpenSSL 1.1.0+), its credentials from the environment (3.0+)."""
    if route.proxy is None:
        return ""
    words = " -proxy " + shlex.quote(route.proxy.removeprefix("http://"))
    if route.proxy_auth:
        words += ' -proxy_user "${UPGRADE_PROXY_USER}" -proxy_pass env:UPGRADE_PROXY_PASSWORD'
    return words


def _client_certificate(route: Route, dash: str) -> list[str]:
    """The client certificate the probes offered, as curl (``--``) or openssl (``-``) takes it."""
    if route.client_cert is None:
        return []
    words = [f"{dash}cert", route.client_cert]
    if route.client_key is not None:
        words += [f"{dash}key", route.client_key]
    return words


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
