"""Keys of what the plugin modules keep on pytest's config, shared between them.

Kept apart so that ``plugin`` need not import ``_enforce_plugin`` (which
pytest loads itself, through ``pytest_plugins``, and must import first to
rewrite its asserts).
"""

from __future__ import annotations

import ssl

import pytest

from .server.enforce import Enforcer

__all__ = ["ENFORCER", "session_tls_minimum"]

ENFORCER = pytest.StashKey[Enforcer]()


def session_tls_minimum(config: pytest.Config) -> ssl.TLSVersion | None:
    """The TLS minimum the bundled server needs for the session's enforcement."""
    if "TLS/1.3" in config.stash[ENFORCER].session:
        return ssl.TLSVersion.TLSv1_3
    return None
