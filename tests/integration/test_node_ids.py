"""Nodes as test items: their ids, collection under pytest-xdist, and the usage errors
(no server needed: the ids are decided at collection; tests/integration/test_pool.py
probes real nodes)."""

from __future__ import annotations

import pytest

POOL = [
    "--upgrade-target=https://pool.test:8443",
    "--upgrade-resolve=pool.test:8443:127.0.0.3,127.0.0.2,[::1]",
]
MARKED = """
import pytest

@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_orders():
    pass
"""


def _collect(pytester: pytest.Pytester, *args: str) -> list[str]:
    result = pytester.runpytest("-p", "no:cacheprovider", "--collect-only", "-q", *args)
    return [line for line in result.outlines if "::" in line]


def test_each_node_is_an_item_whose_id_names_its_address(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_api=MARKED)
    ids = _collect(pytester, *POOL, "--upgrade-require=h2 /")
    assert ids == [
        "test_api.py::test_orders[@127.0.0.3]",
        "test_api.py::test_orders[@127.0.0.2]",
        "test_api.py::test_orders[@::1]",
        "upgrade-requirements::test_requirement[h2 GET / @127.0.0.3]",
        "upgrade-requirements::test_requirement[h2 GET / @127.0.0.2]",
        "upgrade-requirements::test_requirement[h2 GET / @::1]",
    ]


def test_a_fleets_node_ids_carry_the_deployment_and_one_address_keeps_todays_id(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_api=MARKED)
    targets = pytester.path / "targets.txt"
    targets.write_text(
        "https://pool.test:8443 name=staging resolve=127.0.0.2,127.0.0.3\n"
        "https://one.test:8443 name=one resolve=127.0.0.4\n"
        "https://127.0.0.1:9443\n"
    )
    ids = _collect(pytester, f"--upgrade-targets-file={targets}", "--upgrade-require=h2 /")
    assert ids == [
        "test_api.py::test_orders[staging @127.0.0.2]",
        "test_api.py::test_orders[staging @127.0.0.3]",
        "test_api.py::test_orders[one]",
        "test_api.py::test_orders[127.0.0.1:9443]",
        "upgrade-requirements::test_requirement[staging h2 GET / @127.0.0.2]",
        "upgrade-requirements::test_requirement[staging h2 GET / @127.0.0.3]",
        "upgrade-requirements::test_requirement[one h2 GET /]",
        "upgrade-requirements::test_requirement[127.0.0.1:9443 h2 GET /]",
    ]


def test_a_single_deployment_on_one_address_keeps_its_ids(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_api=MARKED)
    ids = _collect(pytester, "--upgrade-target=https://localhost:8443", "--upgrade-require=h2 /")
    assert ids == [
        "test_api.py::test_orders",
        "upgrade-requirements::test_requirement[h2 GET /]",
    ]


def test_k_selects_one_node(pytester: pytest.Pytester) -> None:
    ids = _collect(pytester, *POOL, "--upgrade-require=h2 /", "-k", "127.0.0.2")
    assert ids == ["upgrade-requirements::test_requirement[h2 GET / @127.0.0.2]"]


def test_xdist_workers_collect_the_controllers_nodes(pytester: pytest.Pytester) -> None:
    """Every worker collects the same items (xdist fails the run otherwise); a closed
    port on each node makes each item its own node's error."""
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "xdist", "-n", "2", "--upgrade-timeout=2",
        "--upgrade-target=https://pool.test:9",
        "--upgrade-resolve=pool.test:9:127.0.0.2,127.0.0.3,127.0.0.4",
        "--upgrade-require=h2 /",
    )  # fmt: skip
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(
        ["ERROR   h2 GET /: *connect to 127.0.0.4:9: *test_requirement?h2 GET / @127.0.0.4?"]
    )


def test_too_many_addresses_for_a_name_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--upgrade-target=https://localhost:8443",
        "--upgrade-max-nodes=1", "--upgrade-require=h2 /",
    )  # fmt: skip
    # localhost has one address here: within the limit.
    assert result.ret != pytest.ExitCode.USAGE_ERROR
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--upgrade-resolve=pool.test:1:127.0.0.1",
        "--upgrade-require=h2 /",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --upgrade-resolve=pool.test:1:...: no deployment's https URL*"]
    )


def test_a_name_without_address_errors_its_items_and_the_run_goes_on(
    pytester: pytest.Pytester,
) -> None:
    targets = pytester.path / "targets.txt"
    # RFC 6761 §6.4: .invalid names never resolve.
    targets.write_text("https://gone.invalid:8443 name=gone\nhttps://127.0.0.1:9 name=closed\n")
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--upgrade-timeout=2", f"--upgrade-targets-file={targets}",
        "--upgrade-require=h2 /",
    )  # fmt: skip
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        ["*cannot evaluate h2 GET /: cannot resolve 'gone.invalid'*"], consecutive=False
    )
    result.stdout.fnmatch_lines(
        ["ERROR   h2 GET /: cannot resolve 'gone.invalid'*test_requirement?gone h2 GET /?"]
    )
