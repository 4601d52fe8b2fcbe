"""The bundled server's certificates: a trustme CA and a server certificate for loopback."""

from __future__ import annotations

import os
import pathlib
import shutil
import ssl
import tempfile
import weakref

import trustme
from hypercorn.config import Config

__all__ = ["LOOPBACK", "BundledCA"]

LOOPBACK = "127.0.0.1"


def _write_private(path: pathlib.Path, data: bytes) -> pathlib.Path:
    # Created with mode 0600 (O_EXCL: never an existing file), then made exactly
    # 0600 whatever the umask: the server key must not be readable by others.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "wb") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(data)
    return path


class BundledCA:
    """A trustme CA and a server certificate for 127.0.0.1, localhost and ::1.

    The PEM files live in a private temporary directory (mode 0700, files
    0600) that ``close()`` removes.
    """

    def __init__(self) -> None:
        self._ca = trustme.CA()
        cert = self._ca.issue_cert(LOOPBACK, "localhost", "::1")
        self._dir = pathlib.Path(tempfile.mkdtemp(prefix="pytest-upgrade-ca-"))  # mode 0700
        # Like tempfile.TemporaryDirectory: a forgotten close() still cleans up at exit.
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._dir, ignore_errors=True)
        try:
            self.ca_pem = _write_private(self._dir / "ca.pem", self._ca.cert_pem.bytes())
            chain = b"".join(blob.bytes() for blob in cert.cert_chain_pems)
            self._certfile = _write_private(self._dir / "server.pem", chain)
            self._keyfile = _write_private(self._dir / "server.key", cert.private_key_pem.bytes())
        except BaseException:
            self.close()
            raise

    def ssl_context(self) -> ssl.SSLContext:
        """A new client context that trusts only this CA (verification and hostname checks on).

        Built from scratch rather than with ``ssl.create_default_context()``,
        which loads the system trust store (about 30 ms) only to ignore it.
        """
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self._ca.configure_trust(context)
        return context

    def configure_server(self, config: Config) -> None:
        """Serve TLS with this CA's server certificate: hypercorn's certfile and keyfile."""
        config.certfile = os.fspath(self._certfile)
        config.keyfile = os.fspath(self._keyfile)

    def close(self) -> None:
        """Remove the directory and its files; idempotent."""
        self._cleanup()
