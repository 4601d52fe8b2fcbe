"""Per-directory apps: a conftest.py below the rootdir overriding ``upgrade_app``
gets a bundled server of its own, whatever order the directories run in.
"""

from __future__ import annotations

import pytest

from support.apps import FIXTURE, INNER_INI, app_source

INI = (
    INNER_INI
    + """\
upgrade_requirements =
    h2 /declared
"""
)

# Each test asks which app answered its probes, and which app its own
# session-scoped fixture (built on upgrade_server) talks to.
TEST = """
import httpx
import pytest


@pytest.fixture(scope="session")
def served_by(upgrade_server):
    with httpx.Client(verify=upgrade_server.ssl_context()) as client:
        return client.get(upgrade_server.https_url + "/").headers["x-app"]


@pytest.mark.requires_upgrade("h2", path="/{name}")
def test_{name}(upgrade, served_by):
    assert dict(upgrade.legacy.response.headers)["x-app"] == "{app}"
    assert served_by == "{app}"
"""


def _app(name: str) -> str:
    return app_source(extra_headers=[("x-app", name)]) + FIXTURE


@pytest.fixture
def layout(pytester: pytest.Pytester) -> pytest.Pytester:
    """The root conftest serves app A; pkg_a/conftest.py overrides upgrade_app with app B."""
    pytester.makeini(INI)
    pytester.makeconftest(_app("A"))
    for package, app in (("pkg_a", "B"), ("pkg_b", "A")):
        directory = pytester.mkpydir(package)
        directory.joinpath(f"test_{package}.py").write_text(TEST.format(name=package, app=app))
    (pytester.path / "pkg_a" / "conftest.py").write_text(_app("B"))
    return pytester


@pytest.mark.parametrize("order", [("pkg_b", "pkg_a"), ("pkg_a", "pkg_b"), ()], ids=str)
def test_each_directory_is_served_its_own_app(
    layout: pytest.Pytester, order: tuple[str, ...]
) -> None:
    result = layout.runpytest("-p", "no:cacheprovider", *order)
    # With no arguments the declared requirement runs too, against the root's app.
    result.assert_outcomes(passed=2 if order else 3)


def test_the_same_app_in_two_directories_is_one_server(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(_app("A"))
    test = """
import pytest

SEEN = []

@pytest.mark.parametrize("n", [1, 2])
def test_port(upgrade_server, n):
    SEEN.append(upgrade_server.https_url)
"""
    for package in ("pkg_a", "pkg_b"):
        directory = pytester.mkpydir(package)
        # Both return the root conftest's app object itself.
        directory.joinpath("conftest.py").write_text(
            "import pytest\n\n\n@pytest.fixture(scope='session')\n"
            "def upgrade_app():\n    from conftest import app\n    return app\n"
        )
        directory.joinpath(f"test_{package}.py").write_text(test)
    pytester.makepyfile(
        test_zz_last="""
def test_one_server():
    from pkg_a.test_pkg_a import SEEN as a
    from pkg_b.test_pkg_b import SEEN as b
    assert len(set(a + b)) == 1, a + b
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "pkg_a", "pkg_b", "test_zz_last.py")
    result.assert_outcomes(passed=5)


def test_an_override_outside_a_conftest_is_an_error_naming_both(
    pytester: pytest.Pytester,
) -> None:
    # A test module's own upgrade_app cannot get a server of its own: the
    # bundled server of the session would silently serve the other app.
    pytester.makeconftest(_app("A"))
    pytester.makepyfile(
        test_a="""
import pytest

@pytest.mark.requires_upgrade("h2", path="/a")
def test_a():
    pass
""",
        test_b="""
import pytest

@pytest.fixture(scope="session")
def upgrade_app():
    async def other(scope, receive, send):
        pass
    return other

@pytest.mark.requires_upgrade("h2", path="/b")
def test_b():
    pass
""",
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "test_a.py", "test_b.py")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*the bundled server serves the upgrade_app of conftest.py:*, but this test's"
            " upgrade_app is test_b.py:*: override upgrade_app in a conftest.py*",
        ]
    )


@pytest.mark.parametrize("order", [("pkg_a", "test_root.py"), ("test_root.py", "pkg_a")], ids=str)
def test_a_directory_may_override_the_server_options_alone(
    pytester: pytest.Pytester, order: tuple[str, ...]
) -> None:
    pytester.makeconftest(_app("A"))
    directory = pytester.mkpydir("pkg_a")
    directory.joinpath("conftest.py").write_text(
        "import pytest\n\n\n@pytest.fixture(scope='session')\n"
        "def upgrade_server_options():\n    return {'tls_upgrade': True}\n"
    )
    check = "def test_{name}(upgrade_server, upgrade_target):\n"
    check += "    assert upgrade_server.tls_upgrade is {value}\n"
    check += "    assert upgrade_target.in_band_tls is {value}\n"
    directory.joinpath("test_a.py").write_text(check.format(name="a", value=True))
    pytester.makepyfile(test_root=check.format(name="root", value=False))
    result = pytester.runpytest("-p", "no:cacheprovider", *order)
    result.assert_outcomes(passed=2)
