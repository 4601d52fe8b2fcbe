"""The HTTP/3 probe: a QUIC handshake with ALPN ``h3`` (RFC 9114 §3.1) and one request,
with aioquic (the QUIC stack hypercorn itself serves HTTP/3 with).

aioquic is an optional extra (``pytest-upgrade[h3]``): it is imported only
inside the probe, and its absence is recorded as an ``UNSUPPORTED`` failure
that names the extra, so an ``h3`` requirement is skipped, never passed.

The request goes to an *alternative service* (RFC 7838): the UDP endpoint an
``Alt-Svc`` field advertised, while the request itself is for the origin
(its ``:authority``, and the name the certificate must be valid for, RFC 7838
§2.1, RFC 9114 §3.3). Verification is always on, with the target's trust.

The UDP socket is connected to the endpoint, so on loopback (or wherever the
ICMP message comes back) "port unreachable" ends the probe at once;
otherwise silence ends it at the probe's timeout. Everything is bounded by
that one timeout: the probe runs its own event loop in the calling thread.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import re
import ssl
from typing import Any

from .._model import Exchange, FailureKind, Offer
from .connection import USER_AGENT, ProbeError
from .endpoint import ClientTrust
from .exchange import Recorder, recording
from .proxy import tunnel_proxy
from .spec import ConnectionSpec, Request

__all__ = [
    "H3_EXTRA",
    "aioquic_missing",
    "h3_exchange",
    "load_quic_certificate",
    "quic_unavailable",
]

H3_EXTRA = "pip install 'pytest-upgrade[h3]'"


def aioquic_missing() -> str | None:
    """Why this client cannot speak QUIC (aioquic is not installed), or None."""
    try:
        import aioquic.asyncio  # noqa: F401, PLC0415 (an optional extra, imported when needed)
    except ImportError as exc:
        return f"HTTP/3 probes need aioquic ({exc}): {H3_EXTRA}"
    return None


def quic_unavailable(spec: ConnectionSpec) -> str | None:
    """Why no HTTP/3 probe can be made with ``spec``, or None.

    QUIC is UDP: an HTTP proxy's CONNECT tunnel carries TCP only (RFC 9110
    §9.3.6), so a target reached through one cannot be asked over QUIC at all.
    """
    proxy = tunnel_proxy(spec)
    if proxy is not None:
        return (
            f"HTTP/3 (QUIC, over UDP) cannot go through the HTTP proxy {proxy.authority}:"
            " a CONNECT tunnel carries TCP only (RFC 9110 §9.3.6)"
        )
    return aioquic_missing()


def _offer() -> Offer:
    return Offer(("3",), True, ("h3",))


def h3_exchange(
    spec: ConnectionSpec, request: Request, *, role: str, alternative: tuple[str, int]
) -> Exchange:
    """One HTTP/3 request for the spec's origin, over QUIC to the ``alternative``
    service's host and port (UDP, RFC 7838)."""
    host, port = alternative
    where = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
    sent = request.but(
        headers=[
            ("user-agent", USER_AGENT),
            ("accept", "*/*"),
            *((name.lower(), value) for name, value in request.headers),
        ]
    )
    url = spec.endpoint.url(request.path)
    with recording(role=role, url=url, method=request.method, offer=_offer()) as record:
        record.via = f"{where} (UDP)"
        missing = quic_unavailable(spec)
        if missing is not None:
            raise ProbeError(FailureKind.UNSUPPORTED, missing)
        record.request_headers = sent.headers
        asyncio.run(_request(spec, sent, alternative, record))
    return record.exchange()


async def _request(
    spec: ConnectionSpec, request: Request, alternative: tuple[str, int], record: Recorder
) -> None:
    from aioquic.h3.connection import H3_ALPN  # noqa: PLC0415 (optional extra)
    from aioquic.quic.configuration import QuicConfiguration  # noqa: PLC0415

    from .quic_client import H3Client  # noqa: PLC0415 (aioquic's, as above)

    loop = asyncio.get_running_loop()
    timeout = spec.timeout
    host, port = alternative
    where = f"{host}:{port} (UDP)"  # the failures' wording (the offer brackets an IPv6 host)
    configuration = QuicConfiguration(
        alpn_protocols=H3_ALPN,
        is_client=True,
        # RFC 7838 §2.1: the alternative must be authoritative for the origin.
        server_name=spec.server_name,
        # Our own timeout ends the probe; QUIC's idle timer must not race it.
        idle_timeout=timeout * 2,
    )
    _load_trust(configuration, spec.trust)
    try:
        # A literal address is used as given; a name is resolved first (bounded too).
        transport, protocol = await asyncio.wait_for(
            loop.create_datagram_endpoint(
                lambda: H3Client(configuration, offered=spec.trust.cert), remote_addr=alternative
            ),
            timeout,
        )
    except (OSError, TimeoutError) as exc:
        raise ProbeError(
            FailureKind.UNREACHABLE, f"cannot open a UDP socket to {where}: {exc or 'timed out'}"
        ) from None
    peer = transport.get_extra_info("peername")
    remote = (str(peer[0]), int(peer[1]), *peer[2:])
    try:
        async with asyncio.timeout(timeout):
            await protocol.exchange(remote, spec, request, record, where)
    except TimeoutError:
        stage = "the response" if record.transport is not None else "the QUIC handshake"
        raise ProbeError(
            FailureKind.TIMEOUT,
            f"no answer to {stage} from {where} within {timeout:g} s",
        ) from None
    finally:
        protocol.close()  # sends CONNECTION_CLOSE; no need to wait for the draining period
        transport.close()


def _load_trust(configuration: Any, trust: ClientTrust) -> None:
    """The CAs the TCP probes trust: the given CA file, else the system's store; and the
    client certificate they offer, if one was given.

    Verification is always on. aioquic falls back to certifi's roots only when
    this Python knows no system store (``ssl.get_default_verify_paths``).
    """
    if trust.cert is not None:
        try:
            load_quic_certificate(configuration, trust.cert, trust.key)
        except (OSError, ValueError, TypeError) as exc:  # checked at configuration: gone since?
            raise ProbeError(
                FailureKind.CLIENT_CERTIFICATE,
                f"cannot load the client certificate {trust.cert} for QUIC: {exc}",
            ) from None
    if trust.cafile is not None:
        configuration.load_verify_locations(cafile=trust.cafile)
        return
    paths = ssl.get_default_verify_paths()
    cafile = paths.cafile if paths.cafile and os.path.isfile(paths.cafile) else None
    capath = paths.capath if paths.capath and os.path.isdir(paths.capath) else None
    if cafile is not None or capath is not None:
        configuration.load_verify_locations(cafile=cafile, capath=capath)


_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----", re.DOTALL)


def load_quic_certificate(configuration: Any, cert: str, key: str | None) -> None:
    """The client certificate (chain) and key, as the TCP probes offer them, for QUIC.

    aioquic's own ``QuicConfiguration.load_cert_chain`` finds a key in the
    certificate's file only as PKCS #8 after the certificates; this reads the PEM
    blocks (RFC 7468) in any order and form, as OpenSSL does for the TCP probes,
    and sets the same attributes. The key was checked when the run was configured
    (:mod:`.client_cert`: it loads, matches, and needs no passphrase).
    """
    from cryptography import x509  # noqa: PLC0415 (aioquic's dependency, with the extra)
    from cryptography.hazmat.primitives.serialization import (  # noqa: PLC0415
        load_pem_private_key,
    )

    blocks = [m.group(0) for m in _PEM_BLOCK.finditer(pathlib.Path(cert).read_bytes())]
    if key is not None:
        blocks += [m.group(0) for m in _PEM_BLOCK.finditer(pathlib.Path(key).read_bytes())]
    certificates = [x509.load_pem_x509_certificate(b) for b in blocks if b"CERTIFICATE-" in b]
    keys = [b for b in blocks if b"PRIVATE KEY-" in b]
    if not certificates or not keys:
        raise ValueError(f"{cert}: no PEM certificate and private key for QUIC")
    configuration.certificate = certificates[0]
    configuration.certificate_chain = certificates[1:]
    configuration.private_key = load_pem_private_key(keys[0], password=None)
