"""A load-balanced pool of real nginx nodes: every node is probed and named.

One nginx serves the pool ``pool.test`` on 127.0.0.2, 127.0.0.3 and ::1 (and
127.0.0.1, which ``localhost`` names), one port for all
(tests/support/pool_servers.py); 127.0.0.3 still accepts TLS 1.0 and 1.1.
Taken by hand first, on Debian 12 (nginx 1.22.1, OpenSSL 3.0), with::

    openssl s_client -connect 127.0.0.3:PORT -servername pool.test -tls1 \\
        -cipher DEFAULT:@SECLEVEL=0 -CAfile ca.pem </dev/null
    -> Protocol  : TLSv1 (the bad node), alert 70 protocol_version elsewhere
    curl -sv --http1.1 --resolve pool.test:PORT:127.0.0.2 --cacert ca.pem \\
        https://pool.test:PORT/v2/orders
    -> Connected to pool.test (127.0.0.2), HTTP/1.1 426, Upgrade: HTTP/2.0

Before nodes, ``--upgrade-target=https://pool.test:PORT`` probed whichever
address came first and passed; now the bad node's item fails, by name, on
every run, serial or under pytest-xdist.
"""

from __future__ import annotations

import json
import pathlib
import re
import shlex
import subprocess
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

import pytest

from support.matrix_servers import binary
from support.pool_servers import POOL_NAME, Pool, PoolCertificates, serve_pool

REQUIRE = "--upgrade-require=h2 /v2/orders"
GOOD, BAD, V6 = "127.0.0.2", "127.0.0.3", "::1"


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    binary("nginx")
    certificates = PoolCertificates(tmp_path_factory.mktemp("pool-certs"))
    yield from serve_pool(
        tmp_path_factory.mktemp("pool"), certificates, (GOOD, BAD, V6), bad=(BAD,)
    )


def _run(pytester: pytest.Pytester, pool: Pool, *args: str) -> tuple[pytest.RunResult, Any]:
    report = pytester.path / "report.json"
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--upgrade-timeout=5", f"--upgrade-ca={pool.ca}",
        f"--upgrade-report={report}", *args,
    )  # fmt: skip
    return result, json.loads(report.read_text())


def _glob(text: str) -> str:
    """``text`` as an fnmatch pattern matching itself ("[" and "]" taken literally)."""
    return re.sub(r"[\[\]]", lambda m: f"[{m[0]}]", text)


def _target(url: str) -> str:
    return f"--upgrade-target={url}"


def _by_hand(command: str) -> subprocess.CompletedProcess[str]:
    """Run a reproduce command as its reader would, with nothing on stdin (the
    ``</dev/null`` it may end with)."""
    return subprocess.run(
        shlex.split(command.removesuffix(" </dev/null")),
        stdin=subprocess.DEVNULL, check=False, capture_output=True, encoding="utf-8",
        errors="replace", timeout=30,
    )  # fmt: skip


def _by_node(document: Any) -> dict[str, Any]:
    return {entry["nodeid"]: entry for entry in document["results"]}


def _node_id(address: str) -> str:
    return f"upgrade-requirements::test_requirement[h2 GET /v2/orders @{address}]"


@pytest.mark.parametrize("xdist", [(), ("-p", "xdist", "-n", "2")], ids=["serial", "xdist"])
def test_a_pool_with_one_bad_node_fails_with_that_node_named_on_every_run(
    pytester: pytest.Pytester, pool: Pool, xdist: tuple[str, ...]
) -> None:
    outputs = pytester.path / "out"
    for _ in range(2 if not xdist else 1):
        result, document = _run(
            pytester, pool, _target(pool.url()), pool.resolve(), REQUIRE, *xdist,
            f"--junitxml={outputs / 'junit.xml'}", f"--upgrade-html={outputs / 'report.html'}",
            f"--upgrade-markdown={outputs / 'summary.md'}",
        )  # fmt: skip
        result.assert_outcomes(passed=2, failed=1)
        result.stdout.fnmatch_lines([f"FAILED {_glob(_node_id(BAD))}*"])
        entries = _by_node(document)
        assert {nodeid: e["verdict"] for nodeid, e in entries.items()} == {
            _node_id(GOOD): "passed",
            _node_id(BAD): "failed",
            _node_id(V6): "passed",
        }
        bad = entries[_node_id(BAD)]
        assert bad["node"] == BAD
        assert bad["route"] == {"address": BAD}
        assert bad["target"] == pool.url()
        assert [c["id"] for c in bad["checks"] if c["outcome"] == "failed"] == [
            "tls-legacy-refused"
        ]
        assert [h["outcome"] for h in bad["handshakes"]] == ["accepted", "accepted"]
        # The roll-up groups the nodes under their deployment.
        result.stdout.fnmatch_lines([f"{POOL_NAME}:{pool.port} * 1 of 3 nodes fails"])
    junit = ElementTree.parse(outputs / "junit.xml").getroot()
    failed = [
        case.get("name") for case in junit.iter("testcase") if case.find("failure") is not None
    ]
    assert failed == [f"test_requirement[h2 GET /v2/orders @{BAD}]"]
    assert f"@{BAD}" in (outputs / "report.html").read_text()
    markdown = (outputs / "summary.md").read_text()
    assert f"@{BAD}" in markdown
    assert "1 of 3 nodes fails" in markdown


def test_the_reproduce_commands_reach_the_node_they_name(
    pytester: pytest.Pytester, pool: Pool
) -> None:
    _, document = _run(pytester, pool, _target(pool.url()), pool.resolve(), REQUIRE)
    bad = _by_node(document)[_node_id(BAD)]
    commands = bad["reproduce"]
    legacy = next(c for c in commands if "--http1.1" in c)
    assert f"--resolve {POOL_NAME}:{pool.port}:{BAD}" in legacy
    done = _by_hand(legacy)
    assert f"Connected to {POOL_NAME} ({BAD})" in done.stderr
    assert "< HTTP/1.1 426" in done.stderr
    tls1 = next(c for c in commands if " -tls1 " in c)
    assert f"-connect {BAD}:{pool.port} -servername {POOL_NAME}" in tls1
    done = _by_hand(tls1)
    assert "Protocol  : TLSv1\n" in done.stdout  # the bad node's answer, by hand too


def test_a_marked_test_runs_once_per_node(pytester: pytest.Pytester, pool: Pool) -> None:
    pytester.makepyfile(
        test_orders="""
        import pytest

        @pytest.mark.requires_upgrade("h2", path="/v2/orders")
        def test_orders(upgrade):
            assert upgrade.target.address is not None
        """
    )
    result, document = _run(pytester, pool, _target(pool.url()), pool.resolve())
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([f"FAILED test_orders.py::test_orders[[]@{BAD}[]]*"])
    assert sorted(_by_node(document)) == [
        f"test_orders.py::test_orders[@{a}]" for a in sorted((GOOD, BAD, V6))
    ]


def test_one_node_refusing_connections_is_that_nodes_error(
    pytester: pytest.Pytester, pool: Pool
) -> None:
    closed = "127.0.0.9"  # nothing listens there
    result, document = _run(
        pytester, pool, _target(pool.url()), pool.resolve(GOOD, closed), REQUIRE
    )
    result.assert_outcomes(passed=1, errors=1)
    entries = _by_node(document)
    assert entries[_node_id(GOOD)]["verdict"] == "passed"
    refused = entries[_node_id(closed)]
    assert refused["verdict"] == "error"
    assert f"connect to {closed}:{pool.port}" in refused["error"]
    assert refused["node"] == closed


@pytest.mark.parametrize("xdist", [(), ("-p", "xdist", "-n", "2")], ids=["serial", "xdist"])
def test_localhost_through_the_system_resolver_keeps_its_ids(
    pytester: pytest.Pytester, pool: Pool, xdist: tuple[str, ...]
) -> None:
    # getent ahosts localhost: 127.0.0.1 only, here (a machine that maps it to ::1
    # as well has two nodes, and this pool serves both).
    result, document = _run(pytester, pool, _target(pool.url("localhost")), REQUIRE, *xdist)
    result.assert_outcomes(passed=1)
    (entry,) = document["results"]
    assert entry["nodeid"] == "upgrade-requirements::test_requirement[h2 GET /v2/orders]"
    assert entry["route"] == {"address": "127.0.0.1"}
    assert "node" not in entry
    assert any(f"--resolve localhost:{pool.port}:127.0.0.1" in c for c in entry["reproduce"])


def test_an_ipv6_literal_target_works_end_to_end(pytester: pytest.Pytester, pool: Pool) -> None:
    result, document = _run(pytester, pool, _target(pool.url("[::1]")), REQUIRE)
    result.assert_outcomes(passed=1)
    (entry,) = document["results"]
    assert entry["target"] == pool.url("[::1]")
    assert "route" not in entry  # an IP literal is connected to as it is
    legacy = next(c for c in entry["reproduce"] if "--http1.1" in c)
    assert " -g " in legacy
    assert "< HTTP/1.1 426" in _by_hand(legacy).stderr
    assert any(f"-connect '[::1]:{pool.port}'" in c for c in entry["reproduce"])


def test_a_targets_line_names_its_nodes_with_resolve(
    pytester: pytest.Pytester, pool: Pool, tmp_path: pathlib.Path
) -> None:
    targets = tmp_path / "targets.txt"
    targets.write_text(
        f"{pool.url()} name=pool resolve={BAD},[{V6}]\n{pool.url('localhost')} name=local\n"
    )
    result, document = _run(pytester, pool, f"--upgrade-targets-file={targets}", REQUIRE)
    result.assert_outcomes(passed=2, failed=1)
    assert {e["nodeid"]: e["verdict"] for e in document["results"]} == {
        f"upgrade-requirements::test_requirement[pool h2 GET /v2/orders @{BAD}]": "failed",
        f"upgrade-requirements::test_requirement[pool h2 GET /v2/orders @{V6}]": "passed",
        "upgrade-requirements::test_requirement[local h2 GET /v2/orders]": "passed",
    }
    result.stdout.fnmatch_lines(["pool * 1 of 2 nodes fails"])


def test_a_waiver_for_the_bad_node_covers_that_node_only(
    pytester: pytest.Pytester, pool: Pool, tmp_path: pathlib.Path
) -> None:
    waivers = tmp_path / "waivers.toml"
    waivers.write_text(
        "[[waiver]]\n"
        f'deployment = "{POOL_NAME}:{pool.port}"\n'
        'requirement = "h2 /v2/orders"\n'
        f'node = "{BAD}"\n'
        "until = 2099-12-31\n"
        'reason = "OPS-1 the node leaves the pool on Friday"\n'
    )
    result, document = _run(
        pytester, pool, _target(pool.url()), pool.resolve(), REQUIRE,
        f"--upgrade-waivers={waivers}",
    )  # fmt: skip
    result.assert_outcomes(passed=2, xfailed=1)
    entries = _by_node(document)
    assert entries[_node_id(BAD)]["verdict"] == "waived"
    assert entries[_node_id(GOOD)]["verdict"] == "passed"
