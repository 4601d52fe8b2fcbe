"""Source of a configurable ASGI app that answers 426 correctly unless told otherwise.

Tests write this source into pytester directories and hypercorn subprocesses,
so it is text, not an importable module of the test suite.
"""

from __future__ import annotations

import textwrap
from typing import Any

CORRECT: dict[str, Any] = {
    "legacy_status": 426,
    "upgrade": "HTTP/2.0",
    "connection": "upgrade",
    "content_type": "application/problem+json",
    "body": {
        "type": "about:blank",
        "title": "Upgrade Required",
        "status": 426,
        "detail": "This endpoint requires HTTP/2.",
    },
    "cache_control": None,
    "upgraded_status": 200,
    "raise_on": None,
    "extra_headers": [],
    # Sent on the legacy (HTTP/1.x) answers only: Deprecation and Sunset as meant.
    "legacy_headers": [],
    # RFC 6797: the Strict-Transport-Security of every https answer (None: none).
    "hsts": "max-age=31536000",
    # An Authorization value every request must carry, checked before anything else
    # (auth middleware in front of the 426): others get 401. None: no authentication.
    "require_authorization": None,
}

APP_TEMPLATE = """
import json

BEHAVIOUR = {behaviour!r}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    legacy = scope["http_version"] != "2"
    wanted = BEHAVIOUR["require_authorization"]
    if wanted is not None and (b"authorization", wanted.encode()) not in scope["headers"]:
        headers = [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]
        await send({{"type": "http.response.start", "status": 401, "headers": headers}})
        await send({{"type": "http.response.body", "body": b'{{"detail": "Not authenticated"}}'}})
        return
    if BEHAVIOUR["raise_on"] == ("legacy" if legacy else "upgraded"):
        raise RuntimeError("the app broke on purpose")
    if legacy:
        status = BEHAVIOUR["legacy_status"]
        headers = []
        for name in ("upgrade", "connection", "cache_control", "content_type"):
            if BEHAVIOUR[name] is not None:
                headers.append((name.replace("_", "-").encode(), BEHAVIOUR[name].encode()))
        body = BEHAVIOUR["body"]
        body = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        headers += [(k.encode(), v.encode()) for k, v in BEHAVIOUR["legacy_headers"]]
    else:
        status = BEHAVIOUR["upgraded_status"]
        headers = [(b"content-type", b"application/json")]
        body = b'{{"ok": true}}'
    headers += [(k.encode(), v.encode()) for k, v in BEHAVIOUR["extra_headers"]]
    if scope["scheme"] == "https" and BEHAVIOUR["hsts"] is not None:
        headers.append((b"strict-transport-security", BEHAVIOUR["hsts"].encode()))
    await send({{"type": "http.response.start", "status": status, "headers": headers}})
    await send({{"type": "http.response.body", "body": body}})
"""


def app_source(**changes: Any) -> str:
    unknown = set(changes) - set(CORRECT)
    if unknown:
        raise KeyError(f"unknown behaviour keys: {sorted(unknown)}")
    return textwrap.dedent(APP_TEMPLATE.format(behaviour={**CORRECT, **changes}))


FIXTURE = """

import pytest


@pytest.fixture(scope="session")
def upgrade_app():
    return app
"""


# The fixtures of a conftest that serves its ``app`` with the bundled server, with
# ``{server_options}`` (a template: format it) as upgrade_server_options.
SERVED_WITH_OPTIONS = """

@pytest.fixture(scope="session")
def upgrade_app():
    return app


@pytest.fixture(scope="session")
def upgrade_server_options():
    return {server_options}
"""


def conftest_source(**changes: Any) -> str:
    """A conftest.py that serves the app with ``changes`` through the upgrade_app fixture."""
    return app_source(**changes) + FIXTURE


# A conftest whose app fails its lifespan startup: the bundled server never starts.
STARTUP_FAILS = """
import pytest

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "database unreachable"})

@pytest.fixture(scope="session")
def upgrade_app():
    return app
"""

# The ini of the suites pytester writes, as a careful user's would be:
# pytest-asyncio's loop scope set, and should-level findings shown as warnings
# (the outer run's filterwarnings=error would otherwise turn them into errors).
INNER_INI = """
[pytest]
# hypothesis's plugin imports hypothesis at every inner run's end (~1 s).
addopts = -p no:hypothesispytest
asyncio_default_fixture_loop_scope = function
filterwarnings =
    default::pytest_upgrade.PytestUpgradeWarning
"""
