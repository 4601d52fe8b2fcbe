"""Client certificates (mTLS): the certificate and key every handshake offers, checked
once when the run is configured.

A server may ask the client for a certificate (a CertificateRequest, RFC 8446
§4.3.2, RFC 5246 §7.4.4). The probes then offer the one given
(``--upgrade-client-cert``, ``cert=`` on a targets-file line): its PEM file holds
the certificate (and its chain) and the private key, or the key is in a file of
its own (``--upgrade-client-key``, ``key=``). The files are read by OpenSSL
(``ssl.SSLContext.load_cert_chain``) and aioquic where a context is built; they are
never copied, and no message here ever contains what they hold: errors name the
file and OpenSSL's reason.

There is no way to give a passphrase: a run must not stop to ask for one, so an
encrypted key is refused at configuration time (OpenSSL would otherwise prompt on
the terminal).

A server that asks for a certificate and gets none, or refuses the one given,
says so with an alert (RFC 8446 §6.2): ``certificate_required`` (TLS 1.3, sent
after the client's Finished, so a probe reads it as the answer to its request),
``handshake_failure`` (TLS 1.2, OpenSSL's servers such as Apache's
``SSLVerifyClient require``), ``bad_certificate``, ``unknown_ca``, ... when the
certificate given is refused. :func:`refusal` words that failure, with the
advice. Some servers complete the handshake instead and answer HTTP 400
(nginx's ``ssl_verify_client on``): that is judged as the certificate's doing
only when the server is seen asking for one (:func:`watch_certificate_requests`,
``checks.preconditions.certificate_wanted``).
"""

from __future__ import annotations

import pathlib
import ssl
import weakref
from typing import Any

__all__ = [
    "CLIENT_CERTIFICATE_ALERTS",
    "GIVE_ONE",
    "certificate_requested",
    "check_client_certificate",
    "hung_up_on",
    "load_client_certificate",
    "refusal",
    "watch_certificate_requests",
]

# Alerts a server sends about the client's certificate (RFC 8446 §6.2, §4.4.2.4): the
# server is the one that verifies it, so from a server they are about the client's.
CLIENT_CERTIFICATE_ALERTS = frozenset(
    {
        "certificate_required",
        "bad_certificate",
        "unsupported_certificate",
        "certificate_revoked",
        "certificate_expired",
        "certificate_unknown",
        "unknown_ca",
        "access_denied",
    }
)
GIVE_ONE = (
    "give one with --upgrade-client-cert=PEM (its key in the same file or in"
    " --upgrade-client-key=PEM), or cert=PEM on the deployment's targets-file line"
)
# Why the server refused the certificate given, by its alert (RFC 8446 §6.2).
_REFUSED = {
    "unknown_ca": "it does not trust the CA that issued it: give one its CA issues",
    "certificate_expired": "it has expired: renew it",
    "certificate_revoked": "it is revoked: give a current one",
    "access_denied": "it is valid, but not allowed here: give one that is",
}


def refusal(alert: str, offered: str | None) -> str:
    """The failure of a handshake a server ended with ``alert`` about the client's
    certificate: none was given (``offered`` None), or it refused the one given."""
    if offered is None:
        return (
            f"the server requires a client certificate and none was given (alert {alert}):"
            f" {GIVE_ONE}"
        )
    why = _REFUSED.get(alert, "give one the server accepts")
    return f"the server refused the client certificate {offered} (alert {alert}): {why}"


def hung_up_on() -> str:
    """The failure when the server asked for a certificate, none was given, and it closed
    the connection before answering anything, without an alert."""
    return (
        "the server asked for a client certificate in the TLS handshake, none was given,"
        f" and it closed the connection without answering: {GIVE_ONE}"
    )


_CERTIFICATE_REQUEST = 13  # handshake message type (RFC 8446 §4.3.2, RFC 5246 §7.4.4)
_HANDSHAKE = 22  # record content type (RFC 8446 §5.1)
# The TLS connections whose server sent a CertificateRequest.
_ASKED: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def _note(
    conn: Any, direction: str, _version: Any, content_type: Any, msg_type: Any, _data: bytes
) -> None:
    if direction == "read" and content_type == _HANDSHAKE and msg_type == _CERTIFICATE_REQUEST:
        _ASKED[conn] = True


def watch_certificate_requests(context: ssl.SSLContext) -> None:
    """Have ``context``'s connections note a CertificateRequest from the server.

    In TLS 1.3 the CertificateRequest is encrypted (RFC 8446 §4.3.2): only the
    TLS library sees it. Python's ssl shows it through ``SSLContext._msg_callback``,
    CPython's debugging hook since 3.8 (private, undocumented); where it is
    missing nothing is noted, and no answer is taken for a certificate's doing.
    """
    if hasattr(ssl.SSLContext, "_msg_callback"):
        setattr(context, "_msg_callback", _note)  # noqa: B010 (a private attribute, on purpose)


def certificate_requested(tls: ssl.SSLObject) -> bool:
    """Whether the server of ``tls`` asked for a client certificate in its handshake."""
    return _ASKED.get(tls, False)


_BEGIN_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"
_PRIVATE_KEY = b"PRIVATE KEY-----"  # BEGIN PRIVATE KEY, BEGIN EC/RSA PRIVATE KEY (RFC 7468)


class _PassphraseNeeded(Exception):
    """The key is encrypted: OpenSSL asked for its passphrase."""


def _no_passphrase() -> bytes:
    # Called by OpenSSL only for an encrypted key; raising stops it from
    # prompting on the terminal (load_cert_chain re-raises this exception).
    raise _PassphraseNeeded


def load_client_certificate(context: ssl.SSLContext, cert: str, key: str | None) -> None:
    """Load the certificate (chain) and key into ``context``, offered to every server
    that asks. Raises ``ssl.SSLError``/``OSError`` as ``load_cert_chain`` does; an
    encrypted key raises at once (never a passphrase prompt)."""
    context.load_cert_chain(cert, key, password=_no_passphrase)


def check_client_certificate(cert: str, key: str | None, *, option: str) -> None:
    """ValueError (one line, naming the file, never its content) unless ``cert`` (and
    ``key``) load as a client certificate and its matching private key.

    ``option`` names where they were given (``--upgrade-client-cert``, ``cert=``).
    """
    for path, what in ((cert, option), (key, _key_option(option))):
        if path is not None and not pathlib.Path(path).is_file():
            raise ValueError(f"{what}: no such file: {path}")
    files = cert if key is None else f"{cert} and {key}"
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        load_client_certificate(context, cert, key)
    except _PassphraseNeeded:
        raise ValueError(
            f"{option}: the private key in {key or cert} is encrypted with a passphrase, and"
            " no passphrase can be given: give a key file without one"
            " (openssl pkey -in KEY -out KEY-PLAIN.pem, kept private)"
        ) from None
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise ValueError(
                f"{option}: the private key does not match the certificate ({files})"
            ) from None
        raise ValueError(f"{option}: {_unloadable(cert, key, option)}") from None
    except OSError as exc:
        raise ValueError(f"{option}: cannot read {files}: {exc.strerror or exc}") from None


def _unloadable(cert: str, key: str | None, option: str) -> str:
    """Why OpenSSL could not load the files ("PEM lib" says no more): what is missing."""
    if _BEGIN_CERTIFICATE not in _text(cert):
        return f"no PEM certificate in {cert}"
    if _PRIVATE_KEY not in _text(key or cert):
        also = "" if key is not None else f", or give the key with {_key_option(option)}"
        return f"no PEM private key in {key or cert}{also}"
    files = cert if key is None else f"{cert} and {key}"
    return f"cannot load {files} as a certificate and its private key (PEM)"


def _text(path: str) -> bytes:
    # Read only to say what is missing: its content goes into no message.
    try:
        return pathlib.Path(path).read_bytes()
    except OSError:
        return b""


def _key_option(option: str) -> str:
    """The option or field that gives the key beside ``option``."""
    return "key=" if option == "cert=" else "--upgrade-client-key"
