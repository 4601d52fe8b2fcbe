"""Setting a TLS context's versions, TLS 1.0 and 1.1 included, from any thread.

Python deprecates TLS 1.0 and 1.1 (a DeprecationWarning when a context's
``minimum_version`` or ``maximum_version`` names them); offering or accepting
them is the point of a legacy-TLS probe, so the warning is silenced while the
versions are set. ``warnings.catch_warnings()`` is not thread-safe, though: it
saves and restores the process-wide filter list, so two threads inside it at
once restore each other's filters. Then the warning escapes in one thread (an
error under ``filterwarnings = error``: seen as a flaky probe under load) and
an "ignore" filter can outlive both blocks. Every such block of
pytest-upgrade goes through :func:`set_versions`, one thread at a time.
pytest's own block around each test, in the main thread, is not under that
lock: when it restores the filters while a probe thread is inside its block,
the warning can still become an error there (``filterwarnings = error``), and
the versions are then set again rather than the probe failing.
"""

from __future__ import annotations

import ssl
import threading
import warnings

__all__ = ["set_versions"]

_LOCK = threading.Lock()
_ATTEMPTS = 5


def set_versions(context: ssl.SSLContext, minimum: ssl.TLSVersion, maximum: ssl.TLSVersion) -> None:
    """Let ``context`` negotiate from ``minimum`` to ``maximum``, TLS 1.0 and 1.1 included."""
    for attempt in range(_ATTEMPTS):
        try:
            with _LOCK, warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                _set(context, minimum, maximum)
        except DeprecationWarning:
            # Another thread's catch_warnings restored the filters under this block.
            if attempt == _ATTEMPTS - 1:
                raise
        else:
            return


def _set(context: ssl.SSLContext, minimum: ssl.TLSVersion, maximum: ssl.TLSVersion) -> None:
    if minimum < ssl.TLSVersion.TLSv1_2:
        # OpenSSL 3 offers and accepts TLS 1.0/1.1 only at security level 0
        # (and hypercorn's "ECDHE+AESGCM" ciphers exist only in TLS 1.2+).
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.minimum_version = minimum
    context.maximum_version = maximum
