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
"""

from __future__ import annotations

import pathlib
import ssl

__all__ = ["check_client_certificate", "load_client_certificate"]


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
