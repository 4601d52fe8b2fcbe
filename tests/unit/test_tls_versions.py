"""Setting deprecated TLS versions from many threads at once (no sockets)."""

from __future__ import annotations

import ssl
import sys
import threading
import warnings
from collections.abc import Callable, Iterator

import pytest

from pytest_upgrade.probes import tls_versions
from pytest_upgrade.probes.tls_versions import set_versions


@pytest.fixture
def fast_thread_switching() -> Iterator[None]:
    """Switch threads as often as possible, so that interleavings that are rare show up."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def _hammer(configure: Callable[[ssl.SSLContext], None]) -> tuple[list[Warning], bool]:
    """Eight threads configure contexts at once; the warnings that escaped, and
    whether the process-wide filters changed."""
    escaped: list[Warning] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        before = list(warnings.filters)

        def work() -> None:
            for _ in range(300):
                try:
                    configure(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
                except DeprecationWarning as exc:
                    escaped.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        changed = warnings.filters != before
    return escaped, changed


@pytest.mark.usefixtures("fast_thread_switching")
def test_deprecated_versions_set_from_many_threads_warn_nowhere() -> None:
    escaped, changed = _hammer(
        lambda context: set_versions(context, ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)
    )
    assert escaped == []
    assert not changed


def test_crossed_catch_warnings_blocks_let_the_warning_escape_and_leak_a_filter() -> None:
    """Why set_versions locks: two threads' catch_warnings() blocks, crossed.

    The interleaving a loaded machine produces now and then, replayed in one
    thread: A enters, B enters, A leaves (restoring the filters it saved), B
    sets a deprecated version, B leaves (restoring A's "ignore" for good).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        before = list(warnings.filters)
        thread_a, thread_b = warnings.catch_warnings(), warnings.catch_warnings()
        thread_a.__enter__()
        warnings.simplefilter("ignore", DeprecationWarning)
        thread_b.__enter__()
        warnings.simplefilter("ignore", DeprecationWarning)
        thread_a.__exit__(None, None, None)
        with pytest.raises(DeprecationWarning, match="TLSv1 is deprecated"):
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).minimum_version = ssl.TLSVersion.TLSv1
        thread_b.__exit__(None, None, None)
        assert warnings.filters != before  # A's "ignore" outlived both blocks


def test_versions_are_set() -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    set_versions(context, ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_1)
    assert context.minimum_version == context.maximum_version == ssl.TLSVersion.TLSv1_1


def test_filters_restored_under_the_block_set_the_versions_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """pytest's own block around a test (main thread, not under the lock) may restore
    "error" while a probe thread sets a deprecated version: set them again, not fail."""
    real = tls_versions._set
    attempts: list[ssl.TLSVersion] = []

    def crossed(context: ssl.SSLContext, low: ssl.TLSVersion, high: ssl.TLSVersion) -> None:
        attempts.append(low)
        if len(attempts) == 1:
            warnings.simplefilter("error")  # the other block's exit, replayed
        real(context, low, high)

    monkeypatch.setattr(tls_versions, "_set", crossed)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        set_versions(context, ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1)
    assert attempts == [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1]
    assert context.minimum_version == context.maximum_version == ssl.TLSVersion.TLSv1
